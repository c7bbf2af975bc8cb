// Views, copies and conversion of the tensor layer (ops.h).
#include <algorithm>
#include <cstring>

#include "diffvi/tensor/ops.h"

namespace diffvi::raw {
namespace {

Backend& backend_of(const Tensor& t) { return backend_for(t.device().type); }

// A new impl sharing x's storage with a different geometry; autograd state is not carried over.
Tensor make_view(const Tensor& x, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  impl->device = x.device();
  return Tensor(std::move(impl));
}

Shape infer_shape(const Tensor& x, Shape shape, const char* op) {
  int64_t known = 1, infer_at = -1;
  bool has_zero = false, overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0)
        throw ShapeError(std::string(op) + ": only one dim can be -1, got " + shape_str(shape));
      infer_at = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      throw ShapeError(std::string(op) + ": invalid dim in shape " + shape_str(shape));
    } else {
      has_zero = has_zero || shape[i] == 0;
      overflow = __builtin_mul_overflow(known, shape[i], &known) || overflow;
    }
  }
  // Checked as numel() is: a wrapped product could match x's element count by accident.
  if (has_zero) {
    known = 0;
  } else if (overflow) {
    throw ValueError(std::string(op) + ": shape " + shape_str(shape) +
                     " is too large: its element count overflows int64");
  }
  const int64_t n = x.numel();
  if (infer_at >= 0) {
    if (known == 0 || n % known != 0) {
      throw ShapeError(std::string(op) + ": cannot reshape " + describe(x) + " (" +
                       std::to_string(n) + " elements) to " + shape_str(shape));
    }
    shape[infer_at] = n / known;
  } else if (known != n) {
    throw ShapeError(std::string(op) + ": cannot reshape " + describe(x) + " (" +
                     std::to_string(n) + " elements) to " + shape_str(shape) + " (" +
                     std::to_string(known) + " elements)");
  }
  return shape;
}

// Strides for viewing x as `shape` without copying, if they exist (PyTorch's computeStride).
std::optional<Strides> view_strides(const Tensor& x, const Shape& shape) {
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  if (x.numel() == 0 || old_shape.empty()) return contiguous_strides(shape);
  Strides out(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  // Walk runs of old dims that are contiguous with each other ("chunks"); each chunk must map
  // onto a run of new dims with the same element count.
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 ||
        (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

}  // namespace

Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset) {
  if (shape.size() != strides.size()) {
    throw ShapeError("as_strided: shape " + shape_str(shape) + " and strides " +
                     shape_str(strides) + " differ in rank");
  }
  return make_view(x, shape, strides, offset);
}

Tensor view(const Tensor& x, Shape shape) {
  shape = infer_shape(x, std::move(shape), "view");
  auto strides = view_strides(x, shape);
  if (!strides) {
    throw ShapeError("view: " + describe(x) + " with strides " + shape_str(x.strides()) +
                     " cannot be viewed as " + shape_str(shape) + "; use reshape");
  }
  return make_view(x, shape, *strides, x.offset());
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape(x, std::move(shape), "reshape");
  if (auto strides = view_strides(x, shape)) return make_view(x, shape, *strides, x.offset());
  Tensor c = contiguous(x);
  return make_view(c, shape, contiguous_strides(shape), c.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t n = x.dim();
  if (static_cast<int64_t>(dims.size()) != n) {
    throw ShapeError("permute: " + std::to_string(dims.size()) + " dims given for " + describe(x));
  }
  Shape shape(n);
  Strides strides(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = normalize_dim(dims[i], n, "permute");
    if (seen[d]) throw IndexError("permute: dim " + std::to_string(d) + " repeated");
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  const int64_t n = x.dim();
  dim0 = normalize_dim(dim0, n, "transpose");
  dim1 = normalize_dim(dim1, n, "transpose");
  Shape shape = x.shape();
  Strides strides = x.strides();
  if (n == 0) return make_view(x, shape, strides, x.offset());
  std::swap(shape[dim0], shape[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return make_view(x, shape, strides, x.offset());
}

Tensor squeeze(const Tensor& x, std::optional<int64_t> dim) {
  Shape shape;
  Strides strides;
  const int64_t n = x.dim();
  const int64_t only = dim ? normalize_dim(*dim, n, "squeeze") : -1;
  for (int64_t d = 0; d < n; ++d) {
    const bool drop = x.shape()[d] == 1 && (only < 0 || d == only);
    if (!drop) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
    }
  }
  return make_view(x, shape, strides, x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t n = x.dim();
  dim = normalize_dim(dim, n + 1, "unsqueeze");
  Shape shape = x.shape();
  Strides strides = x.strides();
  // As in slice: this product can overflow only for an empty x, whose strides are never used.
  int64_t stride = 1;
  if (dim < n && __builtin_mul_overflow(shape[dim], strides[dim], &stride)) stride = 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, stride);
  return make_view(x, shape, strides, x.offset());
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const int64_t n = static_cast<int64_t>(shape.size()), xn = x.dim();
  if (n < xn) {
    throw ShapeError("expand: cannot expand " + describe(x) + " to fewer dims " + shape_str(shape));
  }
  Shape out(n);
  Strides strides(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t xi = i - (n - xn);
    const int64_t xs = xi >= 0 ? x.shape()[xi] : 1;
    const int64_t want = shape[i] == -1 ? xs : shape[i];
    if (xi >= 0 && xs == want) {
      out[i] = xs;
      strides[i] = x.strides()[xi];
    } else if (xs == 1 && want >= 0) {
      out[i] = want;
      strides[i] = 0;
    } else {
      throw ShapeError("expand: cannot expand " + describe(x) + " to " + shape_str(shape) +
                       " (dim " + std::to_string(i) + ")");
    }
  }
  numel(out, "expand");  // a view whose element count overflows could not be indexed
  return make_view(x, out, strides, x.offset());
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = normalize_dim(dim, x.dim(), "slice");
  if (step <= 0) throw ValueError("slice: step must be positive, got " + std::to_string(step));
  const int64_t size = x.shape()[dim];
  auto clampi = [size](int64_t i) {
    if (i < 0) i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  start = clampi(start);
  end = std::max(clampi(end), start);
  Shape shape = x.shape();
  Strides strides = x.strides();
  // Written so that no step, however large, overflows: ceil((end - start) / step).
  shape[dim] = end == start ? 0 : 1 + (end - start - 1) / step;
  // start · stride stays inside the storage unless x is empty (a zero dim next to huge ones),
  // where the offset is never used: keep x's rather than overflow.
  int64_t offset = x.offset(), moved = 0;
  if (!__builtin_mul_overflow(start, strides[dim], &moved) &&
      !__builtin_add_overflow(offset, moved, &moved)) {
    offset = moved;
  }
  // step · stride can overflow only when the slice holds at most one element (otherwise it stays
  // inside the storage); that element's stride is never used, so keep the old one.
  int64_t stepped = 0;
  if (!__builtin_mul_overflow(strides[dim], step, &stepped)) strides[dim] = stepped;
  return make_view(x, shape, strides, offset);
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor clone(const Tensor& x) {
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).set_device(x.device()));
  if (x.numel() > 0) backend_of(x).copy(out.buf(), x.buf());
  return out;
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), TensorOptions(dtype).set_device(x.device()));
  if (x.numel() > 0) backend_of(x).copy(out.buf(), x.buf());
  return out;
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  Tensor src = contiguous(x);
  Tensor out = empty(x.shape(), TensorOptions(x.dtype()).set_device(device));
  const size_t bytes = x.numel() * dtype_size(x.dtype());
  if (bytes == 0) return out;
  if (device.type == DeviceType::cpu) {
    backend_of(src).copy_to_host(out.data_ptr(), src.data_ptr(), bytes);
  } else if (src.device().type == DeviceType::cpu) {
    backend_of(out).copy_from_host(out.data_ptr(), src.data_ptr(), bytes);
  } else {
    return to(to(src, Device::cpu()), device);  // device to device through the host
  }
  return out;
}

void copy_(const Tensor& dst, const Tensor& src) {
  if (dst.device() != src.device()) {
    copy_(dst, to(src, dst.device()));
    return;
  }
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  Tensor s = expand(src, dst.shape());
  if (dst.numel() > 0) backend_of(dst).copy(dst.buf(), s.buf());
}

void fill_(const Tensor& dst, double value) {
  if (dst.numel() > 0) backend_of(dst).fill(dst.buf(), value);
}

void random_(const Tensor& dst, Distribution dist, double a, double b, Generator& gen) {
  if (!is_floating(dst.dtype())) {
    throw DTypeError(std::string("random: needs a floating tensor, got ") + describe(dst));
  }
  if (dist == Distribution::normal && b < 0) {
    throw ValueError("normal: std must be >= 0, got " + std::to_string(b));
  }
  if (dist == Distribution::uniform && !(a <= b)) {
    throw ValueError("uniform: need low <= high, got " + std::to_string(a) + ", " +
                     std::to_string(b));
  }
  const uint64_t offset = gen.advance(static_cast<uint64_t>(dst.numel()));
  if (dst.numel() == 0) return;
  Tensor target = dst.is_contiguous() ? dst : empty_like(dst);
  backend_of(dst).random(target.buf(), dist, a, b, gen.seed(), offset);
  if (!target.is_same(dst)) copy_(dst, target);
}

}  // namespace diffvi::raw
