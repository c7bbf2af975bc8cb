// xtensor expressions over xt::adapt'ed raw buffers, assigned through xsimd batches, for the
// dense f32 unary ops that oneDNN has no eltwise for and that the generic loop would otherwise
// send through libm in double or the per-element switch (log, erf, expm1, log1p, sin, cos,
// rsqrt, reciprocal, ...). xsimd is compiled for the baseline ISA (SSE2 on x86-64), so the
// library runs on any x86-64. The cheap ops and binary ops stay on the generic loop: measured,
// xtensor's assignment was up to 2x slower there than GCC's own vectorisation of that loop.
//
// The xtensor CMake target does not define XTENSOR_USE_XSIMD; without it assignment is scalar.
// Only this file includes xtensor, so defining it here changes no other translation unit.
#define XTENSOR_USE_XSIMD 1

#include <array>
#include <cmath>
#include <xsimd/xsimd.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "diffvi/backends/cpu/cpu_eltwise.h"
#include "diffvi/backends/cpu/cpu_internal.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cpu {
namespace {

// A 1-D view of n elements at p, no copy and no ownership.
template <class T>
auto vec(T* p, int64_t n) {
  const size_t len = static_cast<size_t>(n);
  return xt::adapt(p, len, xt::no_ownership(), std::array<size_t, 1>{len});
}

// out[i] = f(in)[i] with the range split over the team above `threshold` elements.
template <class F>
void map1(float* out, const float* in, int64_t n, int64_t threshold, F f) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        auto o = vec(out + begin, end - begin);
        const auto x = vec(in + begin, end - begin);
        xt::noalias(o) = f(x);
      },
      threshold);
}

template <class F>
void map2(float* out, const float* a, const float* b, int64_t n, int64_t threshold, F f) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        auto o = vec(out + begin, end - begin);
        const auto x = vec(a + begin, end - begin);
        const auto y = vec(b + begin, end - begin);
        xt::noalias(o) = f(x, y);
      },
      threshold);
}

// sign(x) with NaN kept and sign(±0) = 0, as the reference's sign_of.
template <class E>
auto sign_expr(const E& x) {
  return xt::where(x > 0.f, 1.f, xt::where(x < 0.f, -1.f, x * 0.f));
}

}  // namespace

bool simd_unary_f32(UnaryOp op, float* dst, const float* x, int64_t n, double a, double b) {
  const float fa = static_cast<float>(a);
  const int64_t light = kParallelThreshold, heavy = kParallelThresholdHeavy;
  auto run = [&](int64_t th, auto f) {
    map1(dst, x, n, th, f);
    return true;
  };
  switch (op) {
    // identity, neg, abs, square, relu, clamp and the scalar affine ops stay on the generic
    // loop: GCC vectorises it at least as well and xtensor's assignment adds overhead there.
    case UnaryOp::sign:
      return run(light, [](const auto& v) { return sign_expr(v); });
    case UnaryOp::rdiv_scalar:
      return run(light, [fa](const auto& v) { return fa / v; });
    case UnaryOp::reciprocal:
      return run(light, [](const auto& v) { return 1.f / v; });
    case UnaryOp::rsqrt:
      return run(light, [](const auto& v) { return 1.f / xt::sqrt(v); });
    case UnaryOp::log:
      return run(heavy, [](const auto& v) { return xt::log(v); });
    case UnaryOp::erf:
      return run(heavy, [](const auto& v) { return xt::erf(v); });
    case UnaryOp::expm1:
      return run(heavy, [](const auto& v) { return xt::expm1(v); });
    case UnaryOp::log1p:
      return run(heavy, [](const auto& v) { return xt::log1p(v); });
    case UnaryOp::sin:
      return run(heavy, [](const auto& v) { return xt::sin(v); });
    case UnaryOp::cos:
      return run(heavy, [](const auto& v) { return xt::cos(v); });
    default:
      return false;  // oneDNN's (cpu_eltwise_dnnl.cpp) or the generic loop's
  }
}

namespace {

// scalar_math.h's math policy over xsimd float batches, so the vectorised backward below computes
// the one derivative formula of each op (scalar::unary_derivative_of), batch by batch.
struct SimdMath {
  using Value = xsimd::batch<float>;
  using Scalar = float;
  static Value exp(const Value& x) { return xsimd::exp(x); }
  static Value sqrt(const Value& x) { return xsimd::sqrt(x); }
  static Value pow(const Value& x, float a) { return xsimd::pow(x, Value(a)); }
  static Value sin(const Value& x) { return xsimd::sin(x); }
  static Value cos(const Value& x) { return xsimd::cos(x); }
  static Value tanh(const Value& x) { return xsimd::tanh(x); }
  static Value erf(const Value& x) { return xsimd::erf(x); }
  static Value sigmoid(const Value& x) {  // scalar::stable_sigmoid, both branches then a select
    const Value e = xsimd::exp(-xsimd::abs(x));
    return xsimd::select(x >= 0.f, 1.f / (1.f + e), e / (1.f + e));
  }
  static Value constant(const Value&, float c) { return Value(c); }
  static Value sign(const Value& x) {  // NaN stays NaN (x * 0), +-0 gives 0
    return xsimd::select(x > 0.f, Value(1.f), xsimd::select(x < 0.f, Value(-1.f), x * 0.f));
  }
  static Value positive(const Value& x) { return xsimd::select(x > 0.f, Value(1.f), Value(0.f)); }
  static Value inside(const Value& x, float lo, float hi) {
    return xsimd::select((x >= lo) && (x <= hi), Value(1.f), Value(0.f));
  }
};

// dx = dy * f'(x) over n dense floats for the constant op K: whole batches through SimdMath, the
// tail through the scalar policy in float (the same formula, one element at a time).
template <UnaryOp K>
void backward_batches(float* dx, const float* x, const float* dy, int64_t n, float a, float b,
                      int64_t threshold) {
  using Batch = SimdMath::Value;
  constexpr int64_t kWidth = static_cast<int64_t>(Batch::size);
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        int64_t i = begin;
        for (; i + kWidth <= end; i += kWidth) {
          const Batch xv = Batch::load_unaligned(x + i), g = Batch::load_unaligned(dy + i);
          (g * scalar::unary_derivative_of<SimdMath>(K, xv, a, b)).store_unaligned(dx + i);
        }
        for (; i < end; ++i) dx[i] = dy[i] * scalar::unary_derivative<float>(K, x[i], a, b);
      },
      threshold);
}

}  // namespace

bool simd_unary_backward_f32(UnaryOp op, float* dx, const float* x, const float* dy, int64_t n,
                             double a, double b) {
  const float fa = static_cast<float>(a), fb = static_cast<float>(b);
  const int64_t light = kParallelThreshold, heavy = kParallelThresholdHeavy;
  switch (op) {
    // identity, neg, square, abs, relu, log and the scalar affine ops have vectorised loops in
    // the generic path (GCC); the transcendental activations go to oneDNN first.
    case UnaryOp::rsub_scalar:
      backward_batches<UnaryOp::rsub_scalar>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::sign:
      backward_batches<UnaryOp::sign>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::clamp:
      backward_batches<UnaryOp::clamp>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::reciprocal:
      backward_batches<UnaryOp::reciprocal>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::rdiv_scalar:
      backward_batches<UnaryOp::rdiv_scalar>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::rsqrt:
      backward_batches<UnaryOp::rsqrt>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::log1p:
      backward_batches<UnaryOp::log1p>(dx, x, dy, n, fa, fb, light);
      return true;
    case UnaryOp::expm1:
      backward_batches<UnaryOp::expm1>(dx, x, dy, n, fa, fb, heavy);
      return true;
    case UnaryOp::erf:
      backward_batches<UnaryOp::erf>(dx, x, dy, n, fa, fb, heavy);
      return true;
    case UnaryOp::sin:
      backward_batches<UnaryOp::sin>(dx, x, dy, n, fa, fb, heavy);
      return true;
    case UnaryOp::cos:
      backward_batches<UnaryOp::cos>(dx, x, dy, n, fa, fb, heavy);
      return true;
    default:
      return false;
  }
}

}  // namespace diffvi::cpu
