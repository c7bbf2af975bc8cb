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
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>

#include "diffvi/backends/cpu/cpu_eltwise.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi::cpu {
namespace {

constexpr float kTwoInvSqrtPi = 1.1283791670955126f;  // d/dx erf(x) = this * exp(-x^2)

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

bool simd_unary_backward_f32(UnaryOp op, float* dx, const float* x, const float* dy, int64_t n,
                             double a, double b) {
  const float fa = static_cast<float>(a), fb = static_cast<float>(b);
  const int64_t light = kParallelThreshold, heavy = kParallelThresholdHeavy;
  auto run = [&](int64_t th, auto f) {
    map2(dx, x, dy, n, th, f);
    return true;
  };
  switch (op) {
    // identity, neg, square, abs, relu, log and the scalar affine ops have vectorised
    // lambdas in the generic loop; the rest there go through the per-element switch.
    case UnaryOp::rsub_scalar:
      return run(light, [](const auto&, const auto& g) { return -g; });
    case UnaryOp::sign:
      return run(light, [](const auto&, const auto& g) { return g * 0.f; });
    case UnaryOp::clamp:  // the gradient passes on the closed interval [a, b]
      return run(light, [fa, fb](const auto& v, const auto& g) {
        return g * xt::where(v >= fa && v <= fb, 1.f, 0.f);
      });
    case UnaryOp::reciprocal:
      return run(light, [](const auto& v, const auto& g) { return g * (-1.f / (v * v)); });
    case UnaryOp::rdiv_scalar:
      return run(light, [fa](const auto& v, const auto& g) { return g * (-fa / (v * v)); });
    case UnaryOp::rsqrt:
      return run(light,
                 [](const auto& v, const auto& g) { return g * (-0.5f / (v * xt::sqrt(v))); });
    case UnaryOp::log1p:
      return run(light, [](const auto& v, const auto& g) { return g * (1.f / (1.f + v)); });
    case UnaryOp::expm1:
      return run(heavy, [](const auto& v, const auto& g) { return g * xt::exp(v); });
    case UnaryOp::erf:
      return run(heavy, [](const auto& v, const auto& g) {
        return g * (kTwoInvSqrtPi * xt::exp(-(v * v)));
      });
    case UnaryOp::sin:
      return run(heavy, [](const auto& v, const auto& g) { return g * xt::cos(v); });
    case UnaryOp::cos:
      return run(heavy, [](const auto& v, const auto& g) { return -(g * xt::sin(v)); });
    default:
      return false;
  }
}

}  // namespace diffvi::cpu
