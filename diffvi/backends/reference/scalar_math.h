// The one scalar definition of every unary op, its derivative, every binary op, and the other
// per-element formulas (NaN-propagating max/min, dtype conversion, the AdamW step). Header-only
// and DIFFVI_HD so the reference backend (reference_*.cpp) and the CUDA kernels
// (backends/cuda/*.cu) compile the very same code: a GPU kernel can only differ from its oracle in
// the precision it is instantiated with (T = double here, T = float on the GPU).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/host_device.h"

namespace diffvi::scalar {

// Each literal is the exact double of the named constant (std::numbers is avoided so the same
// values reach device code without depending on nvcc's handling of variable templates).
inline constexpr double kGeluTanhC = 0.7978845608028654;  // sqrt(2 / pi)
inline constexpr double kGeluTanhK = 0.044715;
inline constexpr double kInvSqrt2 = 0.7071067811865476;
inline constexpr double kInvSqrt2Pi = 0.3989422804014327;    // 1 / sqrt(2 pi)
inline constexpr double kTwoInvSqrtPi = 1.1283791670955126;  // 2 * std::numbers::inv_sqrtpi

// Never forms exp of a large positive number, so it neither overflows nor loses the tail.
template <class T>
DIFFVI_HD inline T stable_sigmoid(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <class T>
DIFFVI_HD inline T sign_of(T x) {
  if (std::isnan(x)) return x;
  return static_cast<T>((x > 0) - (x < 0));
}

template <class T>
DIFFVI_HD inline T unary_value(UnaryOp op, T x, T a, T b) {
  switch (op) {
    case UnaryOp::identity:
      return x;
    case UnaryOp::neg:
      return -x;
    case UnaryOp::exp:
      return std::exp(x);
    case UnaryOp::log:
      return std::log(x);
    case UnaryOp::log1p:
      return std::log1p(x);
    case UnaryOp::expm1:
      return std::expm1(x);
    case UnaryOp::sqrt:
      return std::sqrt(x);
    case UnaryOp::rsqrt:
      return T(1) / std::sqrt(x);
    case UnaryOp::abs:
      return std::abs(x);
    case UnaryOp::sign:
      return sign_of(x);
    case UnaryOp::square:
      return x * x;
    case UnaryOp::reciprocal:
      return T(1) / x;
    case UnaryOp::sin:
      return std::sin(x);
    case UnaryOp::cos:
      return std::cos(x);
    case UnaryOp::tanh:
      return std::tanh(x);
    case UnaryOp::sigmoid:
      return stable_sigmoid(x);
    case UnaryOp::softplus:
      return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
    // NaN must propagate (as in PyTorch), which `x > 0 ? x : 0` alone would not do.
    case UnaryOp::relu:
      return std::isnan(x) ? x : (x > 0 ? x : T(0));
    case UnaryOp::gelu_erf:
      return T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
    case UnaryOp::gelu_tanh:
      return T(0.5) * x * (T(1) + std::tanh(T(kGeluTanhC) * (x + T(kGeluTanhK) * x * x * x)));
    case UnaryOp::silu:
      return x * stable_sigmoid(x);
    case UnaryOp::erf:
      return std::erf(x);
    case UnaryOp::pow_scalar:
      return std::pow(x, a);
    case UnaryOp::add_scalar:
      return x + a;
    case UnaryOp::mul_scalar:
      return x * a;
    case UnaryOp::clamp:
      return std::min(std::max(x, a), b);
    case UnaryOp::rsub_scalar:
      return a - x;
    case UnaryOp::rdiv_scalar:
      return a / x;
  }
  return std::numeric_limits<T>::quiet_NaN();
}

template <class T>
DIFFVI_HD inline T unary_derivative(UnaryOp op, T x, T a, T b) {
  switch (op) {
    case UnaryOp::identity:
      return T(1);
    case UnaryOp::neg:
      return T(-1);
    case UnaryOp::exp:
      return std::exp(x);
    case UnaryOp::log:
      return T(1) / x;
    case UnaryOp::log1p:
      return T(1) / (T(1) + x);
    case UnaryOp::expm1:
      return std::exp(x);
    case UnaryOp::sqrt:
      return T(0.5) / std::sqrt(x);
    case UnaryOp::rsqrt:
      return T(-0.5) / (x * std::sqrt(x));
    case UnaryOp::abs:
      return sign_of(x);
    case UnaryOp::sign:
      return T(0);
    case UnaryOp::square:
      return T(2) * x;
    case UnaryOp::reciprocal:
      return T(-1) / (x * x);
    case UnaryOp::sin:
      return std::cos(x);
    case UnaryOp::cos:
      return -std::sin(x);
    case UnaryOp::tanh: {
      const T t = std::tanh(x);
      return T(1) - t * t;
    }
    case UnaryOp::sigmoid: {
      const T s = stable_sigmoid(x);
      return s * (T(1) - s);
    }
    case UnaryOp::softplus:
      return stable_sigmoid(x);
    case UnaryOp::relu:
      return x > 0 ? T(1) : T(0);
    case UnaryOp::gelu_erf:
      return T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2))) +
             x * T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    case UnaryOp::gelu_tanh: {
      const T t = std::tanh(T(kGeluTanhC) * (x + T(kGeluTanhK) * x * x * x));
      const T du = T(kGeluTanhC) * (T(1) + T(3) * T(kGeluTanhK) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    }
    case UnaryOp::silu: {
      const T s = stable_sigmoid(x);
      return s * (T(1) + x * (T(1) - s));
    }
    case UnaryOp::erf:
      return T(kTwoInvSqrtPi) * std::exp(-x * x);
    // x^0 is constant; the general formula would give 0 * inf at x = 0.
    case UnaryOp::pow_scalar:
      return a == T(0) ? T(0) : a * std::pow(x, a - T(1));
    case UnaryOp::add_scalar:
      return T(1);
    case UnaryOp::mul_scalar:
      return a;
    case UnaryOp::clamp:
      return (a <= x && x <= b) ? T(1) : T(0);
    case UnaryOp::rsub_scalar:
      return T(-1);
    case UnaryOp::rdiv_scalar:
      return -a / (x * x);
  }
  return std::numeric_limits<T>::quiet_NaN();
}

// In the operands' own type T: comparisons must be exact, and i64 arithmetic must not round
// through double. Callers choose T (the reference does f32 math in double; the GPU in float,
// which rounds add/sub/mul/div identically since double has more than 2 * 24 + 2 bits).
template <class T>
DIFFVI_HD inline T binary_value(BinaryOp op, T x, T y) {
  constexpr bool kFloat = std::is_floating_point_v<T>;
  switch (op) {
    case BinaryOp::add:
      return x + y;
    case BinaryOp::sub:
      return x - y;
    case BinaryOp::mul:
      return x * y;
    case BinaryOp::div:
      return x / y;  // i64 is rejected before reaching here
    case BinaryOp::pow:
      if constexpr (kFloat) {
        return static_cast<T>(std::pow(x, y));
      } else {
        return static_cast<T>(std::pow(static_cast<double>(x), y));
      }
    case BinaryOp::maximum:
      if constexpr (kFloat) {
        if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
      }
      return std::max(x, y);
    case BinaryOp::minimum:
      if constexpr (kFloat) {
        if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
      }
      return std::min(x, y);
    case BinaryOp::eq:
      return x == y ? T(1) : T(0);
    case BinaryOp::ne:
      return x != y ? T(1) : T(0);
    case BinaryOp::lt:
      return x < y ? T(1) : T(0);
    case BinaryOp::le:
      return x <= y ? T(1) : T(0);
    case BinaryOp::gt:
      return x > y ? T(1) : T(0);
    case BinaryOp::ge:
      return x >= y ? T(1) : T(0);
  }
  return T(0);
}

// Max/min that propagate NaN, as PyTorch's reductions do.
template <class T>
DIFFVI_HD inline T nan_max(T acc, T v) {
  if (std::isnan(acc) || std::isnan(v)) return std::numeric_limits<T>::quiet_NaN();
  return v > acc ? v : acc;
}
template <class T>
DIFFVI_HD inline T nan_min(T acc, T v) {
  if (std::isnan(acc) || std::isnan(v)) return std::numeric_limits<T>::quiet_NaN();
  return v < acc ? v : acc;
}

// Value conversion for copy between dtypes. Float to integer conversion of NaN or an
// out-of-range value is undefined behaviour in C++, so it saturates (NaN -> 0) instead.
template <class To, class From>
DIFFVI_HD inline To convert(From v) {
  if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    if (std::isnan(v)) return 0;
    // 2^63 is exactly representable; anything at or past it saturates.
    constexpr double kLimit = 9223372036854775808.0;
    const double d = static_cast<double>(v);
    if (d >= kLimit) return std::numeric_limits<To>::max();
    if (d < -kLimit) return std::numeric_limits<To>::min();
    return static_cast<To>(d);
  } else {
    return static_cast<To>(v);
  }
}

// Activation of the fused linear layer as the unary op that defines it.
DIFFVI_HD inline UnaryOp activation_op(Activation act) {
  switch (act) {
    case Activation::none:
      return UnaryOp::identity;
    case Activation::relu:
      return UnaryOp::relu;
    case Activation::gelu_erf:
      return UnaryOp::gelu_erf;
    case Activation::gelu_tanh:
      return UnaryOp::gelu_tanh;
    case Activation::silu:
      return UnaryOp::silu;
    case Activation::tanh:
      return UnaryOp::tanh;
    case Activation::sigmoid:
      return UnaryOp::sigmoid;
  }
  return UnaryOp::identity;
}

// The AdamW constants of one step, computed once on the host.
struct AdamWStep {
  double lr, beta1, beta2, eps, weight_decay;
  double bias1, bias2;  // 1 - beta^step
};

// One element of the AdamW update in math type T, in place on (p, m, v).
template <class T>
DIFFVI_HD inline void adamw_element(const AdamWStep& s, T& p, T g, T& m, T& v) {
  // Decoupled decay acts on the parameter before the Adam step, as in PyTorch.
  p -= T(s.lr) * T(s.weight_decay) * p;
  m = T(s.beta1) * m + (T(1) - T(s.beta1)) * g;
  v = T(s.beta2) * v + (T(1) - T(s.beta2)) * g * g;
  p -= T(s.lr) * (m / T(s.bias1)) / (std::sqrt(v / T(s.bias2)) + T(s.eps));
}

}  // namespace diffvi::scalar
