// The one definition of every unary op, its derivative, every binary op, and the other
// per-element formulas (NaN-propagating max/min, dtype conversion, the fused linear layer's
// activation, the AdamW step). Header-only and DIFFVI_HD, so every backend compiles the very same
// code: the reference (T = double), the CPU backend's loops (T = double for f32 too, or the
// parameter's type for AdamW) and the CUDA kernels (T = float). A kernel can differ from its
// oracle only in the precision it is instantiated with.
//
// The derivatives are written once over a math policy M (unary_derivative_of): ScalarMath<T>
// here for the kernels, and autograd's TensorMath (autograd/tensor_math.h) for the create_graph
// path, which evaluates the same expression on tensors so that second derivatives exist.
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

// The scalar math policy of unary_derivative_of: values in T, scalars in T, std:: functions.
template <class T>
struct ScalarMath {
  using Value = T;
  using Scalar = T;
  DIFFVI_HD static T exp(T x) { return std::exp(x); }
  DIFFVI_HD static T sqrt(T x) { return std::sqrt(x); }
  DIFFVI_HD static T pow(T x, T a) { return std::pow(x, a); }
  DIFFVI_HD static T sin(T x) { return std::sin(x); }
  DIFFVI_HD static T cos(T x) { return std::cos(x); }
  DIFFVI_HD static T tanh(T x) { return std::tanh(x); }
  DIFFVI_HD static T erf(T x) { return std::erf(x); }
  DIFFVI_HD static T sigmoid(T x) { return stable_sigmoid(x); }
  // The piecewise-constant factors, which carry no derivative of their own.
  DIFFVI_HD static T constant(T, T c) { return c; }
  DIFFVI_HD static T sign(T x) { return sign_of(x); }
  DIFFVI_HD static T positive(T x) { return x > 0 ? T(1) : T(0); }
  DIFFVI_HD static T inside(T x, T lo, T hi) { return (lo <= x && x <= hi) ? T(1) : T(0); }
};

// d/dx f(x) of every unary op, over the math policy M (see the top of this file). Constants are
// M::Scalar, so float kernels stay in float and tensors meet plain doubles; `S(3) * S(k) * x`
// keeps the rounding the kernels always had.
template <class M>
DIFFVI_HD inline typename M::Value unary_derivative_of(UnaryOp op, const typename M::Value& x,
                                                       typename M::Scalar a, typename M::Scalar b) {
  using S = typename M::Scalar;
  switch (op) {
    case UnaryOp::identity:
    case UnaryOp::add_scalar:
      return M::constant(x, S(1));
    case UnaryOp::neg:
    case UnaryOp::rsub_scalar:
      return M::constant(x, S(-1));
    case UnaryOp::exp:
    case UnaryOp::expm1:
      return M::exp(x);
    case UnaryOp::log:
      return S(1) / x;
    case UnaryOp::log1p:
      return S(1) / (x + S(1));
    case UnaryOp::sqrt:
      return S(0.5) / M::sqrt(x);
    case UnaryOp::rsqrt:
      return S(-0.5) / (x * M::sqrt(x));
    case UnaryOp::abs:
      return M::sign(x);
    case UnaryOp::sign:
      return M::constant(x, S(0));
    case UnaryOp::square:
      return S(2) * x;
    case UnaryOp::reciprocal:
      return S(-1) / (x * x);
    case UnaryOp::sin:
      return M::cos(x);
    case UnaryOp::cos:
      return -M::sin(x);
    case UnaryOp::tanh: {
      const auto t = M::tanh(x);
      return S(1) - t * t;
    }
    case UnaryOp::sigmoid: {
      const auto s = M::sigmoid(x);
      return s * (S(1) - s);
    }
    case UnaryOp::softplus:
      return M::sigmoid(x);
    case UnaryOp::relu:
      return M::positive(x);
    case UnaryOp::gelu_erf:
      return S(0.5) * (S(1) + M::erf(x * S(kInvSqrt2))) +
             x * S(kInvSqrt2Pi) * M::exp(S(-0.5) * x * x);
    case UnaryOp::gelu_tanh: {
      const auto t = M::tanh(S(kGeluTanhC) * (x + S(kGeluTanhK) * x * x * x));
      const auto du = S(kGeluTanhC) * (S(1) + S(3) * S(kGeluTanhK) * x * x);
      return S(0.5) * (S(1) + t) + S(0.5) * x * (S(1) - t * t) * du;
    }
    case UnaryOp::silu: {
      const auto s = M::sigmoid(x);
      return s * (S(1) + x * (S(1) - s));
    }
    case UnaryOp::erf:
      return S(kTwoInvSqrtPi) * M::exp(-x * x);
    // x^0 is constant; the general formula would give 0 * inf at x = 0.
    case UnaryOp::pow_scalar:
      return a == S(0) ? M::constant(x, S(0)) : a * M::pow(x, a - S(1));
    case UnaryOp::mul_scalar:
      return M::constant(x, a);
    case UnaryOp::clamp:
      return M::inside(x, a, b);
    case UnaryOp::rdiv_scalar:
      return -a / (x * x);
  }
  return M::constant(x, std::numeric_limits<S>::quiet_NaN());
}

template <class T>
DIFFVI_HD inline T unary_derivative(UnaryOp op, T x, T a, T b) {
  return unary_derivative_of<ScalarMath<T>>(op, x, a, b);
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

// Calls f(std::integral_constant<UnaryOp, op>{}): a kernel's loop body then calls
// unary_value / unary_derivative with a constant op, whose switch folds away, so a backend gets
// a loop per op from the one definition instead of writing its own lambdas.
template <class F>
inline decltype(auto) with_unary_op(UnaryOp op, F&& f) {
  static_assert(kUnaryOpCount == 28, "a new UnaryOp needs its case here");
  switch (op) {
    case UnaryOp::identity:
      return f(std::integral_constant<UnaryOp, UnaryOp::identity>{});
    case UnaryOp::neg:
      return f(std::integral_constant<UnaryOp, UnaryOp::neg>{});
    case UnaryOp::exp:
      return f(std::integral_constant<UnaryOp, UnaryOp::exp>{});
    case UnaryOp::log:
      return f(std::integral_constant<UnaryOp, UnaryOp::log>{});
    case UnaryOp::log1p:
      return f(std::integral_constant<UnaryOp, UnaryOp::log1p>{});
    case UnaryOp::expm1:
      return f(std::integral_constant<UnaryOp, UnaryOp::expm1>{});
    case UnaryOp::sqrt:
      return f(std::integral_constant<UnaryOp, UnaryOp::sqrt>{});
    case UnaryOp::rsqrt:
      return f(std::integral_constant<UnaryOp, UnaryOp::rsqrt>{});
    case UnaryOp::abs:
      return f(std::integral_constant<UnaryOp, UnaryOp::abs>{});
    case UnaryOp::sign:
      return f(std::integral_constant<UnaryOp, UnaryOp::sign>{});
    case UnaryOp::square:
      return f(std::integral_constant<UnaryOp, UnaryOp::square>{});
    case UnaryOp::reciprocal:
      return f(std::integral_constant<UnaryOp, UnaryOp::reciprocal>{});
    case UnaryOp::sin:
      return f(std::integral_constant<UnaryOp, UnaryOp::sin>{});
    case UnaryOp::cos:
      return f(std::integral_constant<UnaryOp, UnaryOp::cos>{});
    case UnaryOp::tanh:
      return f(std::integral_constant<UnaryOp, UnaryOp::tanh>{});
    case UnaryOp::sigmoid:
      return f(std::integral_constant<UnaryOp, UnaryOp::sigmoid>{});
    case UnaryOp::softplus:
      return f(std::integral_constant<UnaryOp, UnaryOp::softplus>{});
    case UnaryOp::relu:
      return f(std::integral_constant<UnaryOp, UnaryOp::relu>{});
    case UnaryOp::gelu_erf:
      return f(std::integral_constant<UnaryOp, UnaryOp::gelu_erf>{});
    case UnaryOp::gelu_tanh:
      return f(std::integral_constant<UnaryOp, UnaryOp::gelu_tanh>{});
    case UnaryOp::silu:
      return f(std::integral_constant<UnaryOp, UnaryOp::silu>{});
    case UnaryOp::erf:
      return f(std::integral_constant<UnaryOp, UnaryOp::erf>{});
    case UnaryOp::pow_scalar:
      return f(std::integral_constant<UnaryOp, UnaryOp::pow_scalar>{});
    case UnaryOp::add_scalar:
      return f(std::integral_constant<UnaryOp, UnaryOp::add_scalar>{});
    case UnaryOp::mul_scalar:
      return f(std::integral_constant<UnaryOp, UnaryOp::mul_scalar>{});
    case UnaryOp::clamp:
      return f(std::integral_constant<UnaryOp, UnaryOp::clamp>{});
    case UnaryOp::rsub_scalar:
      return f(std::integral_constant<UnaryOp, UnaryOp::rsub_scalar>{});
    case UnaryOp::rdiv_scalar:
      return f(std::integral_constant<UnaryOp, UnaryOp::rdiv_scalar>{});
  }
  return f(std::integral_constant<UnaryOp, UnaryOp::identity>{});
}

// The same for BinaryOp.
template <class F>
inline decltype(auto) with_binary_op(BinaryOp op, F&& f) {
  static_assert(kBinaryOpCount == 13, "a new BinaryOp needs its case here");
  switch (op) {
    case BinaryOp::add:
      return f(std::integral_constant<BinaryOp, BinaryOp::add>{});
    case BinaryOp::sub:
      return f(std::integral_constant<BinaryOp, BinaryOp::sub>{});
    case BinaryOp::mul:
      return f(std::integral_constant<BinaryOp, BinaryOp::mul>{});
    case BinaryOp::div:
      return f(std::integral_constant<BinaryOp, BinaryOp::div>{});
    case BinaryOp::pow:
      return f(std::integral_constant<BinaryOp, BinaryOp::pow>{});
    case BinaryOp::maximum:
      return f(std::integral_constant<BinaryOp, BinaryOp::maximum>{});
    case BinaryOp::minimum:
      return f(std::integral_constant<BinaryOp, BinaryOp::minimum>{});
    case BinaryOp::eq:
      return f(std::integral_constant<BinaryOp, BinaryOp::eq>{});
    case BinaryOp::ne:
      return f(std::integral_constant<BinaryOp, BinaryOp::ne>{});
    case BinaryOp::lt:
      return f(std::integral_constant<BinaryOp, BinaryOp::lt>{});
    case BinaryOp::le:
      return f(std::integral_constant<BinaryOp, BinaryOp::le>{});
    case BinaryOp::gt:
      return f(std::integral_constant<BinaryOp, BinaryOp::gt>{});
    case BinaryOp::ge:
      return f(std::integral_constant<BinaryOp, BinaryOp::ge>{});
  }
  return f(std::integral_constant<BinaryOp, BinaryOp::add>{});
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

// The constants of one AdamW step in the math type T, hoisted out of the element loop (PyTorch's
// arrangement: p <- (1 - lr decay) p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)).
template <class T>
struct AdamWStep {
  T keep;       // 1 - lr * decay: decoupled decay, applied to the parameter before the Adam step
  T b1, c1;     // m <- b1 m + c1 g
  T b2, c2;     // v <- b2 v + c2 g^2
  T step_size;  // lr / (1 - b1^t)
  T inv_root2;  // 1 / sqrt(1 - b2^t)
  T eps;
};

// Computed on the host in double, then rounded once to T.
template <class T>
inline AdamWStep<T> adamw_step(const AdamWConfig& c) {
  const double step = static_cast<double>(c.step);
  return {static_cast<T>(1.0 - c.lr * c.weight_decay),
          static_cast<T>(c.beta1),
          static_cast<T>(1.0 - c.beta1),
          static_cast<T>(c.beta2),
          static_cast<T>(1.0 - c.beta2),
          static_cast<T>(c.lr / (1.0 - std::pow(c.beta1, step))),
          static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(c.beta2, step))),
          static_cast<T>(c.eps)};
}

// One element of the AdamW update in math type T, in place on (p, m, v). Plain arithmetic, so the
// CPU backend's loop over restrict pointers vectorises with it inlined.
template <class T>
DIFFVI_HD_INLINE void adamw_element(const AdamWStep<T>& s, T& p, T g, T& m, T& v) {
  const T mv = s.b1 * m + s.c1 * g;
  const T vv = s.b2 * v + s.c2 * (g * g);
  p = s.keep * p - s.step_size * mv / (std::sqrt(vv) * s.inv_root2 + s.eps);
  m = mv;
  v = vv;
}

}  // namespace diffvi::scalar
