#include "diffvi/tensor/generator.h"

#include "diffvi/tensor/philox.h"

namespace diffvi {

// The formulas live in philox.h, shared with the CUDA random kernel.
std::array<uint32_t, 4> philox4x32(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  const philox::Block b = philox::block(counter_lo, counter_hi, key);
  return {b.w[0], b.w[1], b.w[2], b.w[3]};
}

double philox_uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  return philox::uniform(seed, offset, index);
}

double philox_normal(uint64_t seed, uint64_t offset, uint64_t index) {
  return philox::normal(seed, offset, index);
}

Generator& default_generator() {
  static Generator gen(0x5eed);
  return gen;
}

}  // namespace diffvi
