#include "diffvi/tensor/shape.h"

#include <algorithm>
#include <string>

#include "diffvi/tensor/errors.h"

namespace diffvi {

// Every element count, stride and buffer size in the library comes from these functions, so the
// overflow checks live here once: a wrapped product would size a buffer too small for its shape.
int64_t numel(const Shape& shape, const char* op) {
  // One pass: a zero dim empties the tensor whatever the other dims are ([2^62, 2^62, 0] is
  // valid), so an overflow is an error only once no zero follows it.
  int64_t n = 1;
  bool overflow = false;
  for (int64_t s : shape) {
    if (s == 0) return 0;
    overflow = __builtin_mul_overflow(n, s, &n) || overflow;
  }
  if (overflow) {
    throw ValueError((op ? std::string(op) + ": " : std::string()) + "shape " + shape_str(shape) +
                     " is too large: its element count overflows int64");
  }
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    if (i > 0 && __builtin_mul_overflow(stride, std::max<int64_t>(shape[i], 1), &stride)) {
      throw ValueError("shape " + shape_str(shape) + " is too large: its strides overflow int64");
    }
  }
  return strides;
}

size_t storage_bytes(const Shape& shape, size_t itemsize, const char* op) {
  // Byte offsets are computed in ptrdiff_t, and the allocators round sizes up: stay below 2^63.
  const int64_t n = numel(shape, op);
  int64_t bytes = 0;
  if (n < 0 || __builtin_mul_overflow(n, static_cast<int64_t>(itemsize), &bytes)) {
    throw ValueError(std::string(op) + ": shape " + shape_str(shape) + " of " +
                     std::to_string(itemsize) +
                     "-byte elements is too large (more than 2^63 - 1 "
                     "bytes)");
  }
  return static_cast<size_t>(bytes);
}

std::string shape_str(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ShapeError(std::string(op) + ": cannot broadcast shapes " + shape_str(a) + " and " +
                       shape_str(b) + " (dim " + std::to_string(i) + ": " + std::to_string(da) +
                       " vs " + std::to_string(db) + ")");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi) {
    throw IndexError(std::string(op) + ": dim " + std::to_string(dim) +
                     " out of range for a tensor of rank " + std::to_string(ndim) + " (expected " +
                     std::to_string(lo) + ".." + std::to_string(hi) + ")");
  }
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                    const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(normalize_dim(d, ndim, op));
  // A scalar accepts dim 0 / -1 but has no dims to index: reducing over them reduces nothing.
  if (ndim == 0) return {};
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw IndexError(std::string(op) + ": dim listed twice");
  }
  return out;
}

}  // namespace diffvi
