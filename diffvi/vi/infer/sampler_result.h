// SamplerResult: what every sampling method hands back to fit(): its stored draws in the model's
// unconstrained space. A sampler derives from it to add its own diagnostics (step sizes,
// divergences, R-hat, ...), which Posterior::sampler_result<T>() returns.
#pragma once

#include <cstdint>
#include <vector>

namespace diffvi::vi {

struct SamplerResult {
  virtual ~SamplerResult() = default;
  int64_t num_chains = 0, num_samples = 0, dim = 0;
  std::vector<double> draws;  // [chain][sample][dim], unconstrained
};

}  // namespace diffvi::vi
