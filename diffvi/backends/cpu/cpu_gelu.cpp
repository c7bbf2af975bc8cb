// GELU (erf form) forward and backward for dense f32, the activation of every MLP in the
// workloads. oneDNN 2.6's eltwise does the same arithmetic but its backward ran at ~2 ns an
// element here (bench_elementwise); these loops are branch-free float arithmetic that GCC
// vectorises, built for AVX-512, AVX2 and baseline x86-64 by target_clones.
//
// Φ(x) uses Abramowitz & Stegun 7.1.26, erfc(z) ≈ t P(t) e^(−z²) with t = 1/(1 + p z), z = |x|/√2
// (absolute error below 1.5e-7, the approximation oneDNN's gelu_erf uses too), and e^(−z²) =
// e^(−x²/2) is shared with the backward's φ(x). For x < 0, Φ(x) = erfc(z)/2 directly, so there is
// no 1 − erf cancellation.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "diffvi/backends/cpu/cpu_eltwise.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi::cpu {
namespace {

// c ? a : b and c ? v : +0 on the bits. Written as ?: (or std::max), GCC specialises the loop
// body for the constant side and branches around the float arithmetic of the other, which "could
// trap" (-ftrapping-math), so it if-converts the loop only where it has masked operations, in the
// AVX-512 clone: the AVX2 and baseline clones then ran scalar (seen on an AVX2-only EPYC, where
// the two GELU loops took 29% of a DMVI fit).
[[gnu::always_inline]] inline float bit_select(bool c, float a, float b) {
  const uint32_t mask = 0u - static_cast<uint32_t>(c);
  return std::bit_cast<float>((std::bit_cast<uint32_t>(a) & mask) |
                              (std::bit_cast<uint32_t>(b) & ~mask));
}
[[gnu::always_inline]] inline float keep_if(bool c, float v) { return bit_select(c, v, 0.0f); }

// e^y for −87 ≤ y ≤ 0 (to 2 ulp; e^−87 below, which the caller zeroes):
// y = n ln 2 + r with |r| ≤ ln2/2, e^r by Taylor to r^7, 2^n put straight into the exponent bits.
[[gnu::always_inline]] inline float exp_nonpositive(float y) {
  constexpr float kLog2e = 1.44269504f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // Cody–Waite split
  constexpr float kRound = 12582912.0f;                             // 1.5 · 2^23
  y = bit_select(y >= -87.0f, y, -87.0f);  // (NaN: −87, and the caller's test zeroes it)
  // Adding 1.5 · 2^23 rounds to an integer n kept in the low mantissa bits: n as a float and as
  // an int without a conversion instruction (none is needed for NaN either).
  const float shifted = y * kLog2e + kRound;
  const float n = shifted - kRound;
  int32_t shifted_bits, round_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  std::memcpy(&round_bits, &kRound, sizeof round_bits);
  const float r = (y - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (shifted_bits - round_bits + 127) << 23;  // n ∈ [−126, 0]: a normal 2^n
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

struct Phi {
  float cdf;      // Φ(x)
  float density;  // φ(x)
};

[[gnu::always_inline]] inline Phi normal_cdf_pdf(float x) {
  constexpr float kInvSqrt2 = 0.70710678f, kInvSqrt2Pi = 0.39894228f;
  constexpr float kP = 0.3275911f;
  constexpr float kA1 = 0.254829592f, kA2 = -0.284496736f, kA3 = 1.421413741f, kA4 = -1.453152027f,
                  kA5 = 1.061405429f;
  const float z = std::abs(x) * kInvSqrt2;
  const float t = 1.0f / (1.0f + kP * z);
  const float poly = t * (kA1 + t * (kA2 + t * (kA3 + t * (kA4 + t * kA5))));
  // e^(−x²/2), 0 where it is below the normal range (x² > 174), as libm's expf gives.
  const float x2 = x * x;
  const float e = keep_if(x2 <= 174.0f, exp_nonpositive(-0.5f * x2));
  const float half_erfc = 0.5f * poly * e;  // Φ(−|x|)
  // 1 − h for x ≥ 0 as h + (1 − 2h) (within an ulp of it), and exactly h for x < 0.
  return {half_erfc + keep_if(x >= 0, 1.0f - 2.0f * half_erfc), kInvSqrt2Pi * e};
}

DIFFVI_CPU_CLONES void gelu_range(float* dst, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = x[i] * normal_cdf_pdf(x[i]).cdf;
}

DIFFVI_CPU_CLONES void gelu_backward_range(float* dx, const float* x, const float* dy, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const Phi p = normal_cdf_pdf(x[i]);
    dx[i] = dy[i] * (p.cdf + x[i] * p.density);
  }
}

}  // namespace

void gelu_erf_f32(float* dst, const float* x, int64_t n) {
  parallel_for(
      n, [&](int64_t begin, int64_t end) { gelu_range(dst + begin, x + begin, end - begin); },
      kParallelThresholdHeavy);
}

void gelu_erf_backward_f32(float* dx, const float* x, const float* dy, int64_t n) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        gelu_backward_range(dx + begin, x + begin, dy + begin, end - begin);
      },
      kParallelThresholdHeavy);
}

}  // namespace diffvi::cpu
