// Philox-4x32-10 and the two draws built on it, header-only and DIFFVI_HD so the CPU generator
// (generator.cpp) and the CUDA random kernel run the same code: a seed gives the same stream on
// every backend. Only <cmath> functions the CUDA device library also provides are used.
#pragma once

#include <cmath>
#include <cstdint>

#include "diffvi/tensor/host_device.h"

namespace diffvi::philox {

struct Block {
  uint32_t w[4];
};

// One Philox-4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
DIFFVI_HD inline Block block(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  constexpr uint32_t kMul0 = 0xD2511F53, kMul1 = 0xCD9E8D57;
  constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kMul0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(kMul1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// 53 random bits from two words, so f64 draws are not restricted to a 2^-32 grid; in (0, 1).
DIFFVI_HD inline double unit53(uint32_t hi, uint32_t lo) {
  const uint64_t bits = ((static_cast<uint64_t>(hi) << 32) | lo) >> 11;
  return (static_cast<double>(bits) + 0.5) * 0x1.0p-53;
}

// Element `index` of a U(0, 1) draw at (seed, offset): exact integer math, so bit-identical on
// every device.
DIFFVI_HD inline double uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  const Block r = block(offset + index, 0, seed);
  return unit53(r.w[0], r.w[1]);
}

// Element `index` of an N(0, 1) draw (Box-Muller). log/cos/sqrt of the device math library may
// differ from glibc's in the last bit of a double; after rounding to f32 they agree.
DIFFVI_HD inline double normal(uint64_t seed, uint64_t offset, uint64_t index) {
  constexpr double kTwoPi = 2.0 * 3.141592653589793;  // 2.0 * std::numbers::pi, same rounding
  const Block r = block(offset + index, 0, seed);
  const double u1 = unit53(r.w[0], r.w[1]);
  const double u2 = unit53(r.w[2], r.w[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2);
}

}  // namespace diffvi::philox
