// 2-D convolution of the tensor layer (ops.h): shape validation, output allocation and one call
// of the backend's conv kernels on contiguous operands.
#include <string>

#include "diffvi/tensor/ops.h"

namespace diffvi::raw {
namespace {

std::string params_str(const Conv2dParams& p) {
  return "stride (" + std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w) +
         "), padding (" + std::to_string(p.pad_h) + ", " + std::to_string(p.pad_w) + "), groups " +
         std::to_string(p.groups);
}

void check_same(const Tensor& a, const Tensor& b, const char* op) {
  if (a.dtype() != b.dtype()) {
    throw DTypeError(std::string(op) + ": dtype mismatch, " + describe(a) + " and " + describe(b));
  }
  if (a.device() != b.device()) {
    throw DeviceError(std::string(op) + ": device mismatch, " + describe(a) + " and " +
                      describe(b));
  }
}

// Validates x [N, C, H, W] against a weight of shape `w` [O, C/G, KH, KW] and returns the output
// shape [N, O, OH, OW].
Shape output_shape(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  const auto fail = [&](const std::string& why) {
    throw ShapeError(std::string(op) + ": input " + shape_str(x) + " and weight " + shape_str(w) +
                     " with " + params_str(p) + ": " + why);
  };
  if (x.size() != 4 || w.size() != 4) fail("input and weight must both be 4-D (NCHW, OIHW)");
  if (p.stride_h < 1 || p.stride_w < 1) fail("strides must be >= 1");
  if (p.pad_h < 0 || p.pad_w < 0) fail("padding must be >= 0");
  if (p.groups < 1) fail("groups must be >= 1");
  if (x[1] % p.groups != 0 || w[0] % p.groups != 0) {
    fail("input channels and output channels must be divisible by groups");
  }
  if (w[1] * p.groups != x[1]) {
    fail("weight expects " + std::to_string(w[1] * p.groups) + " input channels, input has " +
         std::to_string(x[1]));
  }
  if (w[2] < 1 || w[3] < 1) fail("kernel extents must be >= 1");
  const int64_t hp = x[2] + 2 * p.pad_h, wp = x[3] + 2 * p.pad_w;
  if (hp < w[2] || wp < w[3]) fail("kernel is larger than the padded input");
  return {x[0], w[0], (hp - w[2]) / p.stride_h + 1, (wp - w[3]) / p.stride_w + 1};
}

void check_floating_on_backend(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype())) {
    throw DTypeError(std::string(op) + ": expected a floating tensor, got " + describe(x));
  }
  Backend& backend = backend_for(x.device().type);
  if (!backend.supports(x.dtype())) {
    throw DTypeError(std::string(op) + ": backend '" + backend.name() +
                     "' does not support dtype " + dtype_name(x.dtype()) + " (input " +
                     describe(x) + ")");
  }
}

Tensor new_like(const Shape& shape, const Tensor& like) {
  return empty(shape, TensorOptions(like.dtype()).set_device(like.device()));
}

void check_dy(const char* op, const Tensor& dy, const Shape& expected) {
  if (dy.shape() != expected) {
    throw ShapeError(std::string(op) + ": output gradient " + describe(dy) + " must be " +
                     shape_str(expected));
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  check_floating_on_backend(x, "conv2d");
  check_same(x, w, "conv2d");
  const Shape out_shape = output_shape("conv2d", x.shape(), w.shape(), p);
  if (bias.defined()) {
    check_same(x, bias, "conv2d");
    if (bias.shape() != Shape{w.size(0)}) {
      throw ShapeError("conv2d: bias " + describe(bias) + " must be [" + std::to_string(w.size(0)) +
                       "] for weight " + describe(w));
    }
  }
  Tensor y = new_like(out_shape, x);
  if (y.numel() == 0) return y;
  if (x.size(1) == 0) {  // no input channels: the output is the bias alone
    fill_(y, 0);
    return bias.defined() ? binary(BinaryOp::add, y, view(bias, {1, w.size(0), 1, 1})) : y;
  }
  const Tensor xc = contiguous(x), wc = contiguous(w);
  const Tensor bc = bias.defined() ? contiguous(bias) : Tensor();
  const Buf bb = bc.defined() ? bc.buf() : Buf{};
  backend_for(x.device().type).conv2d(y.buf(), xc.buf(), wc.buf(), bc.defined() ? &bb : nullptr, p);
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& input_shape,
                            const Conv2dParams& p) {
  check_floating_on_backend(dy, "conv2d_backward_data");
  check_same(dy, w, "conv2d_backward_data");
  check_dy("conv2d_backward_data", dy,
           output_shape("conv2d_backward_data", input_shape, w.shape(), p));
  Tensor dx = new_like(input_shape, dy);
  if (dx.numel() == 0) return dx;
  if (dy.numel() == 0) {
    fill_(dx, 0);
    return dx;
  }
  const Tensor dyc = contiguous(dy), wc = contiguous(w);
  backend_for(dy.device().type).conv2d_backward_data(dx.buf(), dyc.buf(), wc.buf(), p);
  return dx;
}

Conv2dWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy,
                                          const Shape& weight_shape, const Conv2dParams& p,
                                          bool want_bias) {
  check_floating_on_backend(x, "conv2d_backward_weights");
  check_same(x, dy, "conv2d_backward_weights");
  check_dy("conv2d_backward_weights", dy,
           output_shape("conv2d_backward_weights", x.shape(), weight_shape, p));
  Conv2dWeightGrads g{new_like(weight_shape, x), Tensor()};
  if (want_bias) g.dbias = new_like({weight_shape[0]}, x);
  if (dy.numel() == 0 || g.dw.numel() == 0) {
    fill_(g.dw, 0);
    if (want_bias) fill_(g.dbias, 0);
    return g;
  }
  const Tensor xc = contiguous(x), dyc = contiguous(dy);
  Buf db = want_bias ? g.dbias.buf() : Buf{};
  backend_for(x.device().type)
      .conv2d_backward_weights(g.dw.buf(), want_bias ? &db : nullptr, xc.buf(), dyc.buf(), p);
  return g;
}

}  // namespace diffvi::raw
