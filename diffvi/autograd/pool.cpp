// Pooling and upsampling for NCHW images as composites of shape ops and reductions, so their
// gradients (of any order) come from the ops they are built from.
#include <string>

#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

void check_image(const char* op, const Tensor& x, int64_t factor, const char* what) {
  if (x.dim() != 4) {
    throw ShapeError(std::string(op) + ": input " + describe(x) + " must be 4-D [N, C, H, W]");
  }
  if (factor < 1) {
    throw ValueError(std::string(op) + ": " + what + " must be >= 1, got " +
                     std::to_string(factor));
  }
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, int64_t k) {
  check_image("avg_pool2d", x, k, "kernel size");
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  if (h % k != 0 || w % k != 0) {
    throw ShapeError("avg_pool2d: spatial dims of " + describe(x) + " must be divisible by " +
                     "the kernel size " + std::to_string(k));
  }
  if (k == 1) return x;
  return mean(reshape(x, {n, c, h / k, k, w / k, k}), {3, 5});
}

Tensor upsample_nearest2d(const Tensor& x, int64_t factor) {
  check_image("upsample_nearest2d", x, factor, "factor");
  if (factor == 1) return x;
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  Tensor blocks = expand(reshape(x, {n, c, h, 1, w, 1}), {n, c, h, factor, w, factor});
  return reshape(blocks, {n, c, h * factor, w * factor});
}

}  // namespace diffvi
