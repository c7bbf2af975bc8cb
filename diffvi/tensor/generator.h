// Counter-based random numbers (Philox-4x32-10). A Generator is just (seed, offset): element i
// of a draw uses counter (offset + i), so a draw is identical on every backend and thread count,
// and the state is two integers that checkpoint trivially.
#pragma once

#include <array>
#include <cstdint>

namespace diffvi {

// One Philox-4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
std::array<uint32_t, 4> philox4x32(uint64_t counter_lo, uint64_t counter_hi, uint64_t key);

// Uniform in (0, 1) from a 32-bit word (never exactly 0 or 1).
inline double uint_to_unit(uint32_t x) {
  return (static_cast<double>(x) + 0.5) * (1.0 / 4294967296.0);
}

// Value of element `index` of a draw at (seed, offset): the definition every backend implements.
double philox_uniform(uint64_t seed, uint64_t offset, uint64_t index);  // U(0, 1)
double philox_normal(uint64_t seed, uint64_t offset, uint64_t index);   // N(0, 1), Box-Muller

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  // Reserves n counters and returns the offset of the first.
  uint64_t advance(uint64_t n) {
    uint64_t o = offset_;
    offset_ += n;
    return o;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The convenience generator used when a sampling function is not given one.
Generator& default_generator();

}  // namespace diffvi
