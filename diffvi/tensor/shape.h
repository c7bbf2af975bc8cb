// Shapes, strides and the index arithmetic shared by every layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace diffvi {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

// The element count; ValueError naming the shape (and `op`, when given) when it overflows int64.
int64_t numel(const Shape& shape, const char* op = nullptr);
// Row-major strides; ValueError naming the shape when one overflows int64.
Strides contiguous_strides(const Shape& shape);
// Bytes of a contiguous buffer of `shape` (dims >= 0); ValueError naming `op` and the shape when
// they exceed 2^63 - 1, so no request that large reaches an allocator.
size_t storage_bytes(const Shape& shape, size_t itemsize, const char* op);
std::string shape_str(const Shape& shape);  // "[2, 3]"

// NumPy broadcasting of two shapes; ShapeError naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Maps a possibly negative dim into [0, ndim); IndexError naming `op` when out of range.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// Sorted, unique, normalised dims; an empty list means every dim. Empty for a scalar, whose
// dim 0 / -1 are accepted but name nothing to index.
std::vector<int64_t> normalize_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

}  // namespace diffvi
