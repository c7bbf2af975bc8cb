// Walking the multi-index of a strided buffer. Every kernel of the reference backend is a loop
// over some shape that reads and writes several buffers at once; this header is that loop, so
// each kernel only states which strides each buffer uses. Header-only so the CPU backend can
// reuse it for its fallback paths.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/dtype.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/scalar_math.h"
#include "diffvi/tensor/shape.h"

namespace diffvi::strided {

// Calls f(offset_0, ..., offset_{n-1}) once per multi-index of `shape`, in row-major order,
// where offset_k is the element offset of that index under strides_k. Every strides_k must have
// shape's rank. A rank-0 shape is visited once; a shape with a zero extent is not visited.
// Offsets are updated incrementally (an odometer), so a visit costs O(1) amortised.
template <class F, class... S>
void for_each_offset(const Shape& shape, F&& f, const S&... strides) {
  static_assert((std::is_same_v<S, Strides> && ...), "pass Strides (std::vector<int64_t>)");
  constexpr size_t kN = sizeof...(S);
  const std::array<const int64_t*, kN> st{strides.data()...};
  const int64_t rank = static_cast<int64_t>(shape.size());
  for (int64_t extent : shape) {
    if (extent == 0) return;
  }
  std::array<int64_t, kN> off{};
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  for (;;) {
    std::apply(f, off);
    int64_t d = rank - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        for (size_t k = 0; k < kN; ++k) off[k] += st[k][d];
        break;
      }
      idx[d] = 0;
      for (size_t k = 0; k < kN; ++k) off[k] -= (shape[d] - 1) * st[k][d];
    }
    if (d < 0) return;
  }
}

// Element offsets of every index of `b`, in row-major order: the i-th element of b lives at
// b.ptr<T>()[offsets(b)[i]]. For the small 1-D operands (bias, gamma, mean) whose layout a
// kernel should not have to assume.
inline std::vector<int64_t> offsets(const Buf& b) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(b.numel()));
  for_each_offset(
      b.shape, [&](int64_t o) { out.push_back(o); }, b.strides);
  return out;
}

// `s` with dim `dim` given stride 0, so walking a shape visits only index 0 of that dim (the
// caller adds the offset along it itself, e.g. from an index buffer).
inline Strides with_zero_stride(Strides s, int64_t dim) {
  s[static_cast<size_t>(dim)] = 0;
  return s;
}

// Value conversion for copy between dtypes (saturating float -> integer); defined once in
// scalar_math.h so the CUDA copy kernel converts identically.
using scalar::convert;

// DTypeError naming the kernel, for dtypes a kernel does not do math in.
[[noreturn]] inline void reject_dtype(const std::string& kernel, DType dtype) {
  throw DTypeError(std::string("reference backend: ") + kernel + " does not support dtype " +
                   dtype_name(dtype));
}
inline void require_floating(const std::string& kernel, DType dtype) {
  if (!is_floating(dtype)) reject_dtype(kernel, dtype);
}
inline void require_index(const std::string& kernel, const Buf& index) {
  if (index.dtype != DType::i64) {
    throw DTypeError(std::string("reference backend: ") + kernel + " needs an i64 index, got " +
                     dtype_name(index.dtype));
  }
}

}  // namespace diffvi::strided
