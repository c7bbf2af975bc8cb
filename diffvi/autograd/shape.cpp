// Shape ops. Views share storage with their input; their gradients are the inverse view (or a
// sum / zero-padding for expand and slice).
#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

// Zero tensor of `shape` with g written into the slice (dim, start:end:step): the gradient of
// slice, itself differentiable (its gradient is the slice again).
Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t end,
                      int64_t step) {
  Tensor out = zeros(shape, TensorOptions(g.dtype()).set_device(g.device()));
  raw::copy_(raw::slice(out, dim, start, end, step), g);
  return record(
      "slice_backward", out, {g},
      [dim, start, end, step](const TensorList&, const Tensor& gg, const Tensor&) -> TensorList {
        return {slice(gg, dim, start, end, step)};
      });
}

Tensor reshape_like(const Tensor& g, const Tensor& like) { return reshape(g, like.shape()); }

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  return record("reshape", raw::reshape(x, shape), {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {reshape_like(g, in[0])};
                });
}

Tensor view(const Tensor& x, const Shape& shape) {
  return record("view", raw::view(x, shape), {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {reshape_like(g, in[0])};
                });
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = normalize_dim(start_dim, x.dim(), "flatten");
  end_dim = normalize_dim(end_dim, x.dim(), "flatten");
  if (start_dim > end_dim) {
    throw IndexError("flatten: start_dim " + std::to_string(start_dim) + " after end_dim " +
                     std::to_string(end_dim));
  }
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  // Checked: with a zero dim elsewhere, x's huge dims may multiply past int64 ([0, 2^32, 2^32]).
  int64_t n = 1;
  for (int64_t d = start_dim; d <= end_dim; ++d) {
    if (__builtin_mul_overflow(n, x.size(d), &n)) {
      throw ValueError("flatten: dims " + std::to_string(start_dim) + ".." +
                       std::to_string(end_dim) + " of " + describe(x) + " overflow int64");
    }
  }
  shape.push_back(n);
  shape.insert(shape.end(), x.shape().begin() + end_dim + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return record("transpose", raw::transpose(x, dim0, dim1), {x},
                [dim0, dim1](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  return {transpose(g, dim0, dim1)};
                });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor out = raw::permute(x, dims);
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    inverse[normalize_dim(dims[i], x.dim(), "permute")] = static_cast<int64_t>(i);
  }
  return record("permute", out, {x},
                [inverse](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  return {permute(g, inverse)};
                });
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  return record("squeeze", raw::squeeze(x, dim), {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {reshape_like(g, in[0])};
                });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  return record("unsqueeze", raw::unsqueeze(x, dim), {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {reshape_like(g, in[0])};
                });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  return record("expand", raw::expand(x, shape), {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {sum_to(g, in[0].shape())};
                });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) { return expand(x, shape); }

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = normalize_dim(dim, x.dim(), "slice");
  // Resolve negative / out-of-range bounds once so the backward replays exactly this slice.
  const int64_t size = x.size(dim);
  auto clampi = [size](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + size : i, 0, size); };
  start = clampi(start);
  end = std::max(clampi(end), start);
  return record(
      "slice", raw::slice(x, dim, start, end, step), {x},
      [dim, start, end, step](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
        return {slice_backward(g, in[0].shape(), dim, start, end, step)};
      });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  dim = normalize_dim(dim, x.dim(), "narrow");
  if (start < 0) start += x.size(dim);
  // Compared as length > size - start: start + length could overflow for a huge length.
  if (start < 0 || length < 0 || start > x.size(dim) || length > x.size(dim) - start) {
    throw IndexError("narrow: start " + std::to_string(start) + ", length " +
                     std::to_string(length) + " out of range for dim " + std::to_string(dim) +
                     " of " + describe(x));
  }
  return slice(x, dim, start, start + length);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  dim = normalize_dim(dim, x.dim(), "select");
  const int64_t size = x.size(dim);
  if (index < -size || index >= size) {
    throw IndexError("select: index " + std::to_string(index) + " out of range for dim " +
                     std::to_string(dim) + " of size " + std::to_string(size));
  }
  if (index < 0) index += size;
  return squeeze(slice(x, dim, index, index + 1), dim);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  Tensor out = raw::cat(tensors, dim);
  dim = normalize_dim(dim, tensors[0].dim(), "cat");
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.size(dim));
  return record("cat", out, tensors,
                [dim, sizes](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  return split(g, sizes, dim);
                });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw ValueError("stack: needs at least one tensor");
  dim = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (const Tensor& t : tensors) {
    if (t.shape() != tensors[0].shape()) {
      throw ShapeError("stack: tensors differ in shape, " + shape_str(tensors[0].shape()) +
                       " and " + shape_str(t.shape()));
    }
    expanded.push_back(unsqueeze(t, dim));
  }
  return cat(expanded, dim);
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  dim = normalize_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw ValueError("split: negative size " + std::to_string(s));
    if (__builtin_add_overflow(total, s, &total)) {
      throw ShapeError("split: sizes overflow int64, but dim " + std::to_string(dim) + " of " +
                       describe(x) + " has " + std::to_string(x.size(dim)));
    }
  }
  if (total != x.size(dim)) {
    throw ShapeError("split: sizes sum to " + std::to_string(total) + " but dim " +
                     std::to_string(dim) + " of " + describe(x) + " has " +
                     std::to_string(x.size(dim)));
  }
  std::vector<Tensor> parts;
  int64_t at = 0;
  for (int64_t s : sizes) {
    parts.push_back(slice(x, dim, at, at + s));
    at += s;
  }
  return parts;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  if (split_size <= 0) throw ValueError("split: split_size must be positive");
  dim = normalize_dim(dim, x.dim(), "split");
  std::vector<int64_t> sizes;
  for (int64_t left = x.size(dim); left > 0; left -= split_size) {
    sizes.push_back(std::min(left, split_size));
  }
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, dim);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  if (chunks <= 0) throw ValueError("chunk: chunks must be positive");
  dim = normalize_dim(dim, x.dim(), "chunk");
  const int64_t size = x.size(dim);
  // ceil(size / chunks) written so that a huge `chunks` cannot overflow.
  return split(x, size == 0 ? 1 : 1 + (size - 1) / chunks, dim);
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return record(
      "contiguous", raw::contiguous(x), {x},
      [](const TensorList&, const Tensor& g, const Tensor&) -> TensorList { return {g}; });
}

Tensor clone(const Tensor& x) {
  return record(
      "clone", raw::clone(x), {x},
      [](const TensorList&, const Tensor& g, const Tensor&) -> TensorList { return {g}; });
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  if (!is_floating(dtype) && x.requires_grad() && grad_enabled()) {
    return raw::to(x, dtype);  // integer results carry no gradient
  }
  const DType from = x.dtype();
  return record("to_dtype", raw::to(x, dtype), {x},
                [from](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  return {to(g, from)};
                });
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  const Device from = x.device();
  return record("to_device", raw::to(x, device), {x},
                [from](const TensorList&, const Tensor& g, const Tensor&) -> TensorList {
                  return {to(g, from)};
                });
}

Tensor detach(const Tensor& x) { return raw::as_strided(x, x.shape(), x.strides(), x.offset()); }

}  // namespace diffvi
