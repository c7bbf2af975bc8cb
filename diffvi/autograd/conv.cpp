// conv2d and its two backward passes as recorded ops. Each of the three is bilinear in its two
// tensor arguments, and the derivatives of each are the other two (for y = x ⋆ w with y·u as the
// objective: backward-data of (dy, w) is the adjoint of x ↦ x ⋆ w, backward-weights of (x, dy)
// the adjoint of w ↦ x ⋆ w), so the family is closed and differentiable to any order. Outside
// create_graph the first backward calls the tensor-layer kernels directly (bias gradient fused).
#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

bool wants(const Tensor& t) { return t.defined() && t.requires_grad(); }

Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p);
Tensor conv_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape,
                          const Conv2dParams& p);
Tensor conv_backward_weights(const Tensor& x, const Tensor& dy, const Shape& w_shape,
                             const Conv2dParams& p);

Tensor conv_forward(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  return record("conv2d", raw::conv2d(x, w, b, p), {x, w, b},
                [p](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &k = in[1], &c = in[2];
                  Tensor dx, dw, db;
                  if (!grad_enabled()) {
                    if (wants(a)) dx = raw::conv2d_backward_data(g, k, a.shape(), p);
                    if (wants(k) || wants(c)) {
                      raw::Conv2dWeightGrads r =
                          raw::conv2d_backward_weights(a, g, k.shape(), p, wants(c));
                      if (wants(k)) dw = r.dw;
                      db = r.dbias;
                    }
                    return {dx, dw, db};
                  }
                  if (wants(a)) dx = conv_backward_data(g, k, a.shape(), p);
                  if (wants(k)) dw = conv_backward_weights(a, g, k.shape(), p);
                  if (wants(c)) db = sum(g, {0, 2, 3});
                  return {dx, dw, db};
                });
}

Tensor conv_backward_data(const Tensor& dy, const Tensor& w, const Shape& x_shape,
                          const Conv2dParams& p) {
  return record("conv2d_backward_data", raw::conv2d_backward_data(dy, w, x_shape, p), {dy, w},
                [p](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &d = in[0], &k = in[1];
                  return {wants(d) ? conv_forward(g, k, Tensor(), p) : Tensor(),
                          wants(k) ? conv_backward_weights(g, d, k.shape(), p) : Tensor()};
                });
}

Tensor conv_backward_weights(const Tensor& x, const Tensor& dy, const Shape& w_shape,
                             const Conv2dParams& p) {
  Tensor dw = raw::conv2d_backward_weights(x, dy, w_shape, p, false).dw;
  return record("conv2d_backward_weights", dw, {x, dy},
                [p](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &d = in[1];
                  return {wants(a) ? conv_backward_data(d, g, a.shape(), p) : Tensor(),
                          wants(d) ? conv_forward(a, g, Tensor(), p) : Tensor()};
                });
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& params) {
  return conv_forward(x, w, bias, params);
}

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride, int64_t padding,
              int64_t groups) {
  return conv_forward(x, w, bias, Conv2dParams{stride, stride, padding, padding, groups});
}

}  // namespace diffvi
