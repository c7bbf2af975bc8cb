// matmul (NumPy semantics) and linear (x wᵀ + b, optionally fused with an activation).
#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

Tensor mT(const Tensor& t) { return transpose(t, -1, -2); }

// Product of all but the last dim: explicit because reshape cannot infer -1 next to a 0 dim.
int64_t leading_rows(const Tensor& t) {
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < t.dim(); ++d) rows *= t.size(d);
  return rows;
}

// The recorded op: both operands at least 2-D.
Tensor matmul_2d(const Tensor& x, const Tensor& w) {
  return record("matmul", raw::matmul(x, w), {x, w},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &b = in[1];
                  return {a.requires_grad() ? sum_to(matmul(g, mT(b)), a.shape()) : Tensor(),
                          b.requires_grad() ? sum_to(matmul(mT(a), g), b.shape()) : Tensor()};
                });
}

}  // namespace

Tensor matmul(const Tensor& x, const Tensor& w) {
  if (x.dim() >= 2 && w.dim() >= 2) return matmul_2d(x, w);
  if (x.dim() == 0 || w.dim() == 0) return raw::matmul(x, w);  // raises the ShapeError
  if (x.dim() == 1 && w.dim() == 1 && x.size(0) != w.size(0)) return raw::matmul(x, w);
  Tensor out = matmul_2d(x.dim() == 1 ? unsqueeze(x, 0) : x, w.dim() == 1 ? unsqueeze(w, -1) : w);
  if (x.dim() == 1) out = squeeze(out, -2);
  if (w.dim() == 1) out = squeeze(out, -1);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Activation act) {
  if (act != Activation::none && needs_grad({&x, &w, &bias})) {
    // Training: keep the pre-activation, whose value the activation's backward needs.
    return activation(linear(x, w, bias, Activation::none), act);
  }
  Tensor out = raw::linear(x, w, bias, act);
  return record("linear", out, {x, w, bias},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &b = in[1], &c = in[2];
                  const int64_t n = b.size(0), k = b.size(1);
                  const int64_t rows = leading_rows(a);
                  Tensor g2 = reshape(g, {rows, n});
                  Tensor ga, gw, gb;
                  if (a.requires_grad()) ga = reshape(matmul(g2, b), a.shape());
                  if (b.requires_grad()) gw = matmul(mT(g2), reshape(a, {rows, k}));
                  if (c.defined() && c.requires_grad()) gb = sum(g2, {0});
                  return {ga, gw, gb};
                });
}

}  // namespace diffvi
