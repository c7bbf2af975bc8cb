// Reference backend: unary maps (and the one scalar definition of every unary op), binary ops
// and where.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"

namespace diffvi {

using strided::for_each_offset;

namespace {

constexpr double kGeluTanhC = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluTanhK = 0.044715;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;  // 1 / sqrt(2 pi)

// Never forms exp of a large positive number, so it neither overflows nor loses the tail.
double stable_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

double sign_of(double x) {
  if (std::isnan(x)) return x;
  return static_cast<double>((x > 0) - (x < 0));
}

}  // namespace

double unary_value(UnaryOp op, double x, double a, double b) {
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
      return 1.0 / std::sqrt(x);
    case UnaryOp::abs:
      return std::abs(x);
    case UnaryOp::sign:
      return sign_of(x);
    case UnaryOp::square:
      return x * x;
    case UnaryOp::reciprocal:
      return 1.0 / x;
    case UnaryOp::sin:
      return std::sin(x);
    case UnaryOp::cos:
      return std::cos(x);
    case UnaryOp::tanh:
      return std::tanh(x);
    case UnaryOp::sigmoid:
      return stable_sigmoid(x);
    case UnaryOp::softplus:
      return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x)));
    // NaN must propagate (as in PyTorch), which `x > 0 ? x : 0` alone would not do.
    case UnaryOp::relu:
      return std::isnan(x) ? x : (x > 0 ? x : 0.0);
    case UnaryOp::gelu_erf:
      return 0.5 * x * (1.0 + std::erf(x * kInvSqrt2));
    case UnaryOp::gelu_tanh:
      return 0.5 * x * (1.0 + std::tanh(kGeluTanhC * (x + kGeluTanhK * x * x * x)));
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
  return std::numeric_limits<double>::quiet_NaN();
}

double unary_derivative(UnaryOp op, double x, double a, double b) {
  switch (op) {
    case UnaryOp::identity:
      return 1.0;
    case UnaryOp::neg:
      return -1.0;
    case UnaryOp::exp:
      return std::exp(x);
    case UnaryOp::log:
      return 1.0 / x;
    case UnaryOp::log1p:
      return 1.0 / (1.0 + x);
    case UnaryOp::expm1:
      return std::exp(x);
    case UnaryOp::sqrt:
      return 0.5 / std::sqrt(x);
    case UnaryOp::rsqrt:
      return -0.5 / (x * std::sqrt(x));
    case UnaryOp::abs:
      return sign_of(x);
    case UnaryOp::sign:
      return 0.0;
    case UnaryOp::square:
      return 2.0 * x;
    case UnaryOp::reciprocal:
      return -1.0 / (x * x);
    case UnaryOp::sin:
      return std::cos(x);
    case UnaryOp::cos:
      return -std::sin(x);
    case UnaryOp::tanh: {
      const double t = std::tanh(x);
      return 1.0 - t * t;
    }
    case UnaryOp::sigmoid: {
      const double s = stable_sigmoid(x);
      return s * (1.0 - s);
    }
    case UnaryOp::softplus:
      return stable_sigmoid(x);
    case UnaryOp::relu:
      return x > 0 ? 1.0 : 0.0;
    case UnaryOp::gelu_erf:
      return 0.5 * (1.0 + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x);
    case UnaryOp::gelu_tanh: {
      const double t = std::tanh(kGeluTanhC * (x + kGeluTanhK * x * x * x));
      const double du = kGeluTanhC * (1.0 + 3.0 * kGeluTanhK * x * x);
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du;
    }
    case UnaryOp::silu: {
      const double s = stable_sigmoid(x);
      return s * (1.0 + x * (1.0 - s));
    }
    case UnaryOp::erf:
      return 2.0 * std::numbers::inv_sqrtpi * std::exp(-x * x);
    // x^0 is constant; the general formula would give 0 * inf at x = 0.
    case UnaryOp::pow_scalar:
      return a == 0.0 ? 0.0 : a * std::pow(x, a - 1.0);
    case UnaryOp::add_scalar:
      return 1.0;
    case UnaryOp::mul_scalar:
      return a;
    case UnaryOp::clamp:
      return (a <= x && x <= b) ? 1.0 : 0.0;
    case UnaryOp::rsub_scalar:
      return -1.0;
    case UnaryOp::rdiv_scalar:
      return -a / (x * x);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

void ReferenceBackend::unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) {
  strided::require_floating(std::string("unary(") + unary_name(op) + ")", x.dtype);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = x.ptr<T>();
    // Reading before writing at the same offset keeps the exact in-place alias safe.
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t ox) {
          out[od] = static_cast<T>(unary_value(op, static_cast<double>(in[ox]), a, b));
        },
        dst.strides, x.strides);
  });
}

void ReferenceBackend::unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy,
                                      double a, double b) {
  strided::require_floating(std::string("unary_backward(") + unary_name(op) + ")", x.dtype);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dx.ptr<T>();
    const T* px = x.ptr<T>();
    const T* pdy = dy.ptr<T>();
    for_each_offset(
        dx.shape,
        [&](int64_t od, int64_t ox, int64_t oy) {
          const double g = static_cast<double>(pdy[oy]);
          out[od] = static_cast<T>(g * unary_derivative(op, static_cast<double>(px[ox]), a, b));
        },
        dx.strides, x.strides, dy.strides);
  });
}

namespace {

// In the input's own type: comparisons must be exact, and i64 arithmetic must not round
// through double.
template <class T>
T binary_value(BinaryOp op, T x, T y) {
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
      return static_cast<T>(std::pow(static_cast<double>(x), y));
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

}  // namespace

void ReferenceBackend::binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) {
  // i64 gets comparisons and exact ring arithmetic; division and pow would need a rounding rule.
  if (x.dtype == DType::i64 && (op == BinaryOp::div || op == BinaryOp::pow)) {
    strided::reject_dtype(std::string("binary(") + binary_name(op) + ")", x.dtype);
  }
  visit_dtype(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* px = x.ptr<T>();
    const T* py = y.ptr<T>();
    // f32 arithmetic goes through double (one rounding, at the store); comparisons are exact
    // either way since float -> double is exact.
    using Math = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t ox, int64_t oy) {
          const Math r =
              binary_value<Math>(op, static_cast<Math>(px[ox]), static_cast<Math>(py[oy]));
          out[od] = static_cast<T>(r);
        },
        dst.strides, x.strides, y.strides);
  });
}

void ReferenceBackend::where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) {
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    visit_dtype(cond.dtype, [&](auto c) {
      using C = decltype(c);
      T* out = dst.ptr<T>();
      const C* pc = cond.ptr<C>();
      const T* px = x.ptr<T>();
      const T* py = y.ptr<T>();
      for_each_offset(
          dst.shape,
          [&](int64_t od, int64_t oc, int64_t ox, int64_t oy) {
            out[od] = pc[oc] != C(0) ? px[ox] : py[oy];
          },
          dst.strides, cond.strides, x.strides, y.strides);
    });
  });
}

}  // namespace diffvi
