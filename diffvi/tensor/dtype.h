// Element types. f32 everywhere; f64 on the reference and CPU backends (gradcheck and VI
// log-densities need it); i64 only for indices and labels (creation, copy, indexing kernels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace diffvi {

enum class DType : uint8_t { f32, f64, i64 };

constexpr size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
constexpr bool is_floating(DType t) { return t != DType::i64; }
const char* dtype_name(DType t);

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}

// Calls f(T{}) with T the C++ type of `t`; for kernels written once for every dtype.
template <class F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::f32:
      return f(float{});
    case DType::f64:
      return f(double{});
    default:
      return f(int64_t{});
  }
}
template <class F>
decltype(auto) visit_floating(DType t, F&& f) {
  if (t == DType::f32) return f(float{});
  return f(double{});
}

}  // namespace diffvi
