// Indexing and joining ops of the tensor layer (ops.h).
#include <algorithm>

#include "diffvi/tensor/ops.h"

namespace diffvi::raw {
namespace {

Backend& backend_of(const Tensor& t) { return backend_for(t.device().type); }

// Indices are validated on the host so no backend ever reads out of bounds.
void check_index(const Tensor& index, int64_t limit, const char* op) {
  if (index.dtype() != DType::i64) {
    throw DTypeError(std::string(op) + ": index must be i64, got " + describe(index));
  }
  for (int64_t v : index.to_vector<int64_t>()) {
    if (v < 0 || v >= limit) {
      throw IndexError(std::string(op) + ": index " + std::to_string(v) +
                       " out of range for dim of size " + std::to_string(limit));
    }
  }
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (a.device() != b.device()) {
    throw DeviceError(std::string(op) + ": device mismatch, " + describe(a) + " and " +
                      describe(b));
  }
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "index_select");
  check_same_device(x, index, "index_select");
  if (index.dim() != 1) {
    throw ShapeError("index_select: index must be 1-D, got " + describe(index));
  }
  check_index(index, x.dim() ? x.size(dim) : 1, "index_select");
  // A scalar is indexed as the one element of a [1] tensor (the kernels need a dim to walk).
  if (x.dim() == 0) {
    if (index.size(0) != 1) {
      throw IndexError("index_select: a scalar takes exactly one index, got " + describe(index));
    }
    return view(index_select(view(x, {1}), 0, index), {});
  }
  Shape shape = x.shape();
  shape[dim] = index.size(0);
  Tensor out = empty(shape, TensorOptions(x.dtype()).set_device(x.device()));
  if (out.numel() > 0) {
    backend_of(x).index_select(out.buf(), x.buf(), dim, contiguous(index).buf());
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "gather");
  check_same_device(x, index, "gather");
  if (index.dim() != x.dim()) {
    throw ShapeError("gather: index " + describe(index) + " must have the rank of " + describe(x));
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d != dim && index.size(d) > x.size(d)) {
      throw ShapeError("gather: index " + shape_str(index.shape()) + " larger than input " +
                       shape_str(x.shape()) + " at dim " + std::to_string(d));
    }
  }
  check_index(index, x.dim() ? x.size(dim) : 1, "gather");
  if (x.dim() == 0) return view(gather(view(x, {1}), 0, view(index, {1})), {});  // as above
  Tensor out = empty(index.shape(), TensorOptions(x.dtype()).set_device(x.device()));
  if (out.numel() > 0) backend_of(x).gather(out.buf(), x.buf(), dim, index.buf());
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = normalize_dim(dim, x.dim(), "scatter_add");
  check_same_device(x, index, "scatter_add");
  check_same_device(x, src, "scatter_add");
  if (x.dtype() != src.dtype()) {
    throw DTypeError("scatter_add: dtype mismatch, " + describe(x) + " and " + describe(src));
  }
  if (index.shape() != src.shape() || index.dim() != x.dim()) {
    throw ShapeError("scatter_add: index " + shape_str(index.shape()) + " and source " +
                     shape_str(src.shape()) + " must share a shape of the rank of " + describe(x));
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d != dim && index.size(d) > x.size(d)) {
      throw ShapeError("scatter_add: index " + shape_str(index.shape()) + " larger than input " +
                       shape_str(x.shape()) + " at dim " + std::to_string(d));
    }
  }
  check_index(index, x.dim() ? x.size(dim) : 1, "scatter_add");
  if (x.dim() == 0) {  // as a [1] tensor, like index_select
    return view(scatter_add(view(x, {1}), 0, view(index, {1}), view(src, {1})), {});
  }
  Tensor out = clone(x);
  if (src.numel() > 0) backend_of(x).scatter_add(out.buf(), dim, index.buf(), src.buf());
  return out;
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("cat: needs at least one tensor");
  const Tensor& first = tensors[0];
  if (first.dim() == 0) throw ShapeError("cat: zero-dimensional tensors cannot be concatenated");
  dim = normalize_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[dim] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (t.dtype() != first.dtype()) {
      throw DTypeError("cat: tensor " + std::to_string(i) + " is " + describe(t) +
                       ", tensor 0 is " + describe(first));
    }
    check_same_device(first, t, "cat");
    bool ok = t.dim() == first.dim();
    for (int64_t d = 0; ok && d < t.dim(); ++d) ok = d == dim || t.size(d) == first.size(d);
    if (!ok) {
      throw ShapeError("cat: tensor " + std::to_string(i) + " has shape " + shape_str(t.shape()) +
                       ", incompatible with " + shape_str(first.shape()) + " along dim " +
                       std::to_string(dim));
    }
    if (__builtin_add_overflow(shape[dim], t.size(dim), &shape[dim])) {
      throw ValueError("cat: the sizes along dim " + std::to_string(dim) +
                       " overflow int64 at tensor " + std::to_string(i) + " (" +
                       shape_str(t.shape()) + ")");
    }
  }
  Tensor out = empty(shape, TensorOptions(first.dtype()).set_device(first.device()));
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    const int64_t n = t.size(dim);
    if (n > 0 && t.numel() > 0) copy_(slice(out, dim, at, at + n), t);
    at += n;
  }
  return out;
}

Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype) {
  if (num_classes <= 0) {
    throw ValueError("one_hot: num_classes must be positive, got " + std::to_string(num_classes));
  }
  check_index(index, num_classes, "one_hot");
  Shape shape = index.shape();
  shape.push_back(num_classes);
  Tensor out = zeros(shape, TensorOptions(dtype).set_device(index.device()));
  if (index.numel() == 0) return out;
  Tensor idx = unsqueeze(contiguous(index), -1);
  Tensor ones_src = ones(idx.shape(), TensorOptions(dtype).set_device(index.device()));
  backend_of(out).scatter_add(out.buf(), out.dim() - 1, idx.buf(), ones_src.buf());
  return out;
}

}  // namespace diffvi::raw
