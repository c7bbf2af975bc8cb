// Philox-4x32-10 and the two draws built on it, header-only and DIFFVI_HD so the CPU generator
// (generator.cpp) and the CUDA random kernel run the same code: a seed gives the same stream on
// every backend. The normal draw's log and cos are defined here too (no libm; see below).
#pragma once

#include <cmath>
#include <cstdint>

#include "diffvi/tensor/host_device.h"

namespace diffvi::philox {

struct Block {
  uint32_t w[4];
};

// Philox-4x32's key schedule constants.
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

// One Philox-4x32 round on the counter words (c0, c1, c2, c3) with round key (k0, k1). Shared by
// block() and the CPU backend's lane-by-lane batch (cpu_random.cpp), so there is one definition.
DIFFVI_HD_INLINE void round(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0,
                            uint32_t k1) {
  constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
  const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
  const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
  const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
  const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
  c1 = static_cast<uint32_t>(p1);
  c3 = static_cast<uint32_t>(p0);
  c0 = n0;
  c2 = n2;
}

// One Philox-4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
DIFFVI_HD inline Block block(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    round(c0, c1, c2, c3, k0, k1);
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// 53 random bits from two words, so f64 draws are not restricted to a 2^-32 grid; in (0, 1).
DIFFVI_HD_INLINE double unit53(uint32_t hi, uint32_t lo) {
  const uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
}

// Element `index` of a U(0, 1) draw at (seed, offset): exact integer math, so bit-identical on
// every device.
DIFFVI_HD inline double uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  const Block r = block(offset + index, 0, seed);
  return unit53(r.w[0], r.w[1]);
}

// --- the transcendental functions of Box-Muller, from IEEE arithmetic alone
// ------------------------ libm's log and cos differ between glibc, glibc's vector library and
// CUDA's device library in the last bit, so a normal draw built on them is not the same on every
// backend or vector width. These are written with +, −, ×, ÷ and integer bit operations only, each
// correctly rounded everywhere, so every backend, vector width and thread count computes identical
// bits. (The host library is built with -ffp-contract=off; on the device the _rn intrinsics stop
// nvcc from fusing a multiply and an add into an FMA, which rounds once instead of twice.)

DIFFVI_HD_INLINE double mul_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

DIFFVI_HD_INLINE double add_rn(double a, double b) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}

// c[0] + x (c[1] + x (c[2] + ...)), Horner's rule with separately rounded steps.
template <int N>
DIFFVI_HD_INLINE double horner(double x, const double (&c)[N]) {
  double r = c[N - 1];
  for (int i = N - 2; i >= 0; --i) r = add_rn(c[i], mul_rn(r, x));
  return r;
}

DIFFVI_HD_INLINE uint64_t bits_of(double x) {
#ifdef __CUDA_ARCH__
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t b;
  __builtin_memcpy(&b, &x, sizeof b);
  return b;
#endif
}

DIFFVI_HD_INLINE double double_of(uint64_t b) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(b));
#else
  double x;
  __builtin_memcpy(&x, &b, sizeof x);
  return x;
#endif
}

// ln(x) for a normal positive double (the draws pass (0, 1)); within 2 ulp of the true value.
// x = 2^e m with m in [√½, √2), and ln m = 2 atanh(s), s = (m − 1)/(m + 1), |s| < 0.172,
// summed to s^23 (the next term is below 1e-19 relative).
DIFFVI_HD_INLINE double log_positive(double x) {
  constexpr double kSqrt2 = 1.4142135623730951;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 bits of ln 2: e·kLn2Hi is exact
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 − kLn2Hi
  constexpr double kInvOdd[] = {1.0,      1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11,
                                1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23};
  const uint64_t b = bits_of(x);
  // The biased exponent as a double without an int-to-float conversion: 2^52 + k has k in its
  // low mantissa bits, so subtracting 2^52 + 1023 leaves e exactly.
  double e = double_of((b >> 52) | 0x4330000000000000ull) - 4503599627371519.0;
  double m = double_of((b & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);  // [1, 2)
  const bool high = m > kSqrt2;
  m = high ? mul_rn(m, 0.5) : m;
  e = high ? add_rn(e, 1.0) : e;
  const double s = (m - 1.0) / (m + 1.0);  // m − 1 is exact (Sterbenz)
  const double s2 = mul_rn(s, s);
  const double log_m = mul_rn(mul_rn(2.0, s), horner(s2, kInvOdd));
  return add_rn(mul_rn(e, kLn2Hi), add_rn(mul_rn(e, kLn2Lo), log_m));
}

// cos(2πu) for u in [0, 1], within a few ulp. Symmetry folds u to b in [0, 1/8] with exact
// subtractions (1 − u, 1/2 − a, 1/4 − a are exact by Sterbenz's lemma), then a Taylor series of
// cos or sin of x = 2πb ∈ [0, π/4] to x^18 (the next term is below 1e-19).
DIFFVI_HD_INLINE double cos_two_pi(double u) {
  constexpr double kTwoPi = 2.0 * 3.141592653589793;
  constexpr double kCos[] = {1.0,
                             -1.0 / 2,
                             1.0 / 24,
                             -1.0 / 720,
                             1.0 / 40320,
                             -1.0 / 3628800,
                             1.0 / 479001600,
                             -1.0 / 87178291200.0,
                             1.0 / 20922789888000.0,
                             -1.0 / 6402373705728000.0};
  constexpr double kSin[] = {1.0,
                             -1.0 / 6,
                             1.0 / 120,
                             -1.0 / 5040,
                             1.0 / 362880,
                             -1.0 / 39916800,
                             1.0 / 6227020800.0,
                             -1.0 / 1307674368000.0,
                             1.0 / 355687428096000.0};
  const double a = u > 0.5 ? 1.0 - u : u;  // cos(2πu) = cos(2π(1 − u)); a ∈ [0, 1/2]
  const bool negate = a > 0.25;            // cos(2πa) = −cos(2π(1/2 − a))
  const double c = negate ? 0.5 - a : a;   // [0, 1/4]
  const bool use_sin = c > 0.125;          // cos(2πc) = sin(2π(1/4 − c))
  const double x = mul_rn(kTwoPi, use_sin ? 0.25 - c : c);
  const double x2 = mul_rn(x, x);
  const double r = use_sin ? mul_rn(x, horner(x2, kSin)) : horner(x2, kCos);
  return negate ? -r : r;
}

// Element `index` of an N(0, 1) draw (Box-Muller), with the log and cos above: bit-identical on
// every backend.
DIFFVI_HD inline double normal(uint64_t seed, uint64_t offset, uint64_t index) {
  const Block r = block(offset + index, 0, seed);
  const double u1 = unit53(r.w[0], r.w[1]);
  const double u2 = unit53(r.w[2], r.w[3]);
  return std::sqrt(mul_rn(-2.0, log_positive(u1))) * cos_two_pi(u2);
}

}  // namespace diffvi::philox
