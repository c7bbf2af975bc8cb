// Indexing ops; index tensors are i64 and never differentiable.
#include "diffvi/autograd/ops.h"

namespace diffvi {

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = normalize_dim(dim, x.dim(), "scatter_add");
  Tensor idx = detach(index);
  return record("scatter_add", raw::scatter_add(x, dim, idx, src), {x, src, idx},
                [dim](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &s = in[1], &i = in[2];
                  return {a.requires_grad() ? g : Tensor(),
                          s.requires_grad() ? gather(g, dim, i) : Tensor(), Tensor()};
                });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "gather");
  Tensor idx = detach(index);
  return record("gather", raw::gather(x, dim, idx), {x, idx},
                [dim](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &i = in[1];
                  return {scatter_add(zeros_like(a), dim, i, g), Tensor()};
                });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "index_select");
  Tensor idx = detach(index);
  return record("index_select", raw::index_select(x, dim, idx), {x, idx},
                [dim](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &i = in[1];
                  if (a.dim() == 0) return {g, Tensor()};
                  // Spread the index along dim so it matches g for scatter_add.
                  Shape ishape(g.dim(), 1);
                  ishape[dim] = i.numel();
                  Tensor spread = raw::contiguous(raw::expand(raw::reshape(i, ishape), g.shape()));
                  return {scatter_add(zeros_like(a), dim, spread, g), Tensor()};
                });
}

Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype) {
  return raw::one_hot(index, num_classes, dtype);
}

}  // namespace diffvi
