// Reductions over any set of dims (empty = all), with keepdim; cumsum; sum_to.
#include <algorithm>

#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

// x's shape with the reduced dims set to 1: the shape a non-keepdim result is viewed back into.
Shape kept_shape(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  Shape kept = x.shape();
  for (int64_t d : normalize_dims(dims, x.dim(), op)) kept[d] = 1;
  return kept;
}

// Elements per reduction: the product of the reduced extents (also right when another dim is 0).
int64_t reduced_count(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  int64_t n = 1;
  for (int64_t d : normalize_dims(dims, x.dim(), op)) n *= x.size(d);
  return n;
}

}  // namespace

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  if (lead < 0) {
    throw ShapeError("sum_to: cannot sum " + describe(x) + " to the larger shape " +
                     shape_str(shape));
  }
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && x.size(d) != 1)) dims.push_back(d);
  }
  Tensor s = dims.empty() ? x : sum(x, dims, true);
  return reshape(s, shape);
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape kept = kept_shape(x, dims, "sum");
  return record("sum", raw::reduce(ReduceOp::sum, x, dims, keepdim), {x},
                [kept](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {expand(reshape(g, kept), in[0].shape())};
                });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const double n = static_cast<double>(reduced_count(x, dims, "mean"));
  return mul(sum(x, dims, keepdim), 1.0 / n);
}

namespace {
Tensor extremum(ReduceOp op, const char* name, const Tensor& x, const std::vector<int64_t>& dims,
                bool keepdim) {
  Shape kept = kept_shape(x, dims, name);
  return record(
      name, raw::reduce(op, x, dims, keepdim), {x},
      [kept, dims](const TensorList& in, const Tensor& g, const Tensor& out) -> TensorList {
        const Tensor& a = in[0];
        // The gradient is shared equally among tied extrema.
        Tensor hit;
        {
          NoGradGuard no_grad;
          hit = raw::binary(BinaryOp::eq, a, raw::reshape(detach(out), kept));
          hit = raw::binary(BinaryOp::div, hit, raw::reduce(ReduceOp::sum, hit, dims, true));
        }
        return {mul(reshape(g, kept), hit)};
      });
}
}  // namespace

Tensor max(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::max, "max", x, dims, keepdim);
}
Tensor min(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return extremum(ReduceOp::min, "min", x, dims, keepdim);
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape kept = kept_shape(x, dims, "logsumexp");
  return record("logsumexp", raw::reduce(ReduceOp::logsumexp, x, dims, keepdim), {x},
                [kept](const TensorList& in, const Tensor& g, const Tensor& out) -> TensorList {
                  const Tensor& a = in[0];
                  return {mul(reshape(g, kept), exp(sub(a, reshape(out, kept))))};
                });
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  const int64_t n = reduced_count(x, dims, "var");
  if (n - correction <= 0) {
    throw ValueError("var: " + std::to_string(n) + " elements per reduction with correction " +
                     std::to_string(correction) + " of " + describe(x));
  }
  Tensor centred = sub(x, mean(x, dims, true));
  return mul(sum(square(centred), dims, keepdim), 1.0 / static_cast<double>(n - correction));
}

Tensor cumsum(const Tensor& x, int64_t dim) {
  dim = normalize_dim(dim, x.dim(), "cumsum");
  return record("cumsum", raw::cumsum(x, dim), {x},
                [dim](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  // Reverse cumulative sum: sum_{j >= i} g_j = total - cumsum(g) + g.
                  if (g.dim() == 0) return {g};
                  return {add(sub(sum(g, {dim}, true), cumsum(g, dim)), g)};
                });
}

}  // namespace diffvi
