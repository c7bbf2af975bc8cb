// softmax, log_softmax and layer_norm through fused forward/backward kernels. Under create_graph
// the backward is composed from differentiable ops so second derivatives exist.
#include <algorithm>

#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

Tensor softmax_op(const Tensor& x, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  dim = normalize_dim(dim, x.dim(), name);
  return record(name, raw::softmax(x, dim, log), {x},
                [dim, log](const TensorList&, const Tensor& g, const Tensor& y) -> TensorList {
                  if (grad_enabled()) {
                    if (log) return {sub(g, mul(exp(y), sum(g, {dim}, true)))};
                    return {mul(y, sub(g, sum(mul(g, y), {dim}, true)))};
                  }
                  return {raw::softmax_backward(detach(y), g, dim, log)};
                });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_op(x, dim, true); }

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const int64_t nd = static_cast<int64_t>(normalized_shape.size());
  if (nd < 1 || nd > x.dim() ||
      !std::equal(normalized_shape.begin(), normalized_shape.end(), x.shape().end() - nd)) {
    throw ShapeError("layer_norm: normalized shape " + shape_str(normalized_shape) +
                     " does not match the trailing dims of input " + describe(x));
  }
  raw::LayerNormOut r = raw::layer_norm(x, nd, weight, bias, eps);
  Tensor mu = r.mean, rstd = r.rstd;
  return record(
      "layer_norm", r.y, {x, weight, bias},
      [nd, mu, rstd, eps](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
        const Tensor &a = in[0], &w = in[1], &b = in[2];
        const bool want_w = w.defined() && w.requires_grad();
        const bool want_b = b.defined() && b.requires_grad();
        if (grad_enabled()) {
          // create_graph: the same gradient composed from differentiable ops.
          std::vector<int64_t> dims;
          for (int64_t d = a.dim() - nd; d < a.dim(); ++d) dims.push_back(d);
          Tensor rs = rsqrt(add(var(a, dims, 0, true), eps));
          Tensor xhat = mul(sub(a, mean(a, dims, true)), rs);
          Tensor dxhat = w.defined() ? mul(g, w) : g;
          Tensor dx = mul(rs, sub(sub(dxhat, mean(dxhat, dims, true)),
                                  mul(xhat, mean(mul(dxhat, xhat), dims, true))));
          return {dx, want_w ? sum_to(mul(g, xhat), w.shape()) : Tensor(),
                  want_b ? sum_to(g, b.shape()) : Tensor()};
        }
        raw::LayerNormGrads r = raw::layer_norm_backward(g, a, mu, rstd, nd, w, want_w, want_b);
        return {a.requires_grad() ? r.dx : Tensor(), r.dgamma, r.dbeta};
      });
}

}  // namespace diffvi
