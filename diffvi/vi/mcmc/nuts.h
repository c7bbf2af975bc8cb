// The no-U-turn sampler (Hoffman & Gelman 2014) in Stan's form: multinomial sampling of the
// trajectory (biased progressive sampling between subtrees, uniform within), the generalised
// U-turn criterion with the extra checks across subtree boundaries, divergence at ΔH > 1000,
// dual-averaging step size and windowed diagonal mass-matrix adaptation during warmup.
//
// Chains advance in lockstep of gradient evaluations: each chain is a coroutine that suspends
// whenever it needs log p and ∇log p at a new point, and the driver evaluates every waiting
// chain's point in one batched call (the particles of one tensor evaluation), so per-op overhead
// is paid once per step for all chains. Results are identical to running chains one by one.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "diffvi/vi/infer/sampler_result.h"

namespace diffvi::vi {

struct NutsOptions {
  static constexpr const char* kTypeName = "NutsOptions";
  int64_t num_chains = 4;
  int64_t num_warmup = 1000;
  int64_t num_samples = 1000;
  int64_t max_tree_depth = 10;
  double target_accept = 0.8;
  double init_step_size = 1.0;
  // Chains start uniformly in [-init_radius, init_radius]^d (unconstrained), as Stan does.
  double init_radius = 2.0;
  bool adapt_mass_matrix = true;
  uint64_t seed = 0;

  NutsOptions& set_num_chains(int64_t v) {
    num_chains = v;
    return *this;
  }
  NutsOptions& set_num_warmup(int64_t v) {
    num_warmup = v;
    return *this;
  }
  NutsOptions& set_num_samples(int64_t v) {
    num_samples = v;
    return *this;
  }
  NutsOptions& set_max_tree_depth(int64_t v) {
    max_tree_depth = v;
    return *this;
  }
  NutsOptions& set_target_accept(double v) {
    target_accept = v;
    return *this;
  }
  NutsOptions& set_seed(uint64_t v) {
    seed = v;
    return *this;
  }
};

// Fills logp[n] and grad[n·d] for the n points z[n·d] (row-major). Non-finite log densities are
// allowed (treated as divergent).
using BatchedLogDensity =
    std::function<void(const double* z, int64_t n, double* logp, double* grad)>;

// The draws (SamplerResult: num_chains, num_samples, dim, draws) and NUTS's diagnostics.
struct NutsResult : SamplerResult {
  std::vector<double> log_density;                  // [chain][sample]
  std::vector<double> step_size;                    // per chain, after warmup
  std::vector<std::vector<double>> inverse_metric;  // per chain, after warmup
  int64_t divergences = 0;                          // after warmup
  double mean_accept_stat = 0;                      // after warmup
  double mean_tree_depth = 0;                       // after warmup
  int64_t gradient_evaluations = 0;                 // summed over chains
  int64_t batched_evaluations = 0;                  // calls of the log density
  double warmup_seconds = 0, sampling_seconds = 0;

  double draw(int64_t chain, int64_t sample, int64_t coord) const {
    return draws[(chain * num_samples + sample) * dim + coord];
  }
  // Draws of one coordinate, per chain.
  std::vector<std::vector<double>> chains(int64_t coord) const;
  double mean(int64_t coord) const;
  double sd(int64_t coord) const;
  double r_hat(int64_t coord) const;
  double ess(int64_t coord) const;
  double max_r_hat() const;
  double min_ess() const;
};

// Runs options.num_chains chains on the density f over R^dim. ValueError when no finite
// starting point is found in 100 attempts per chain.
NutsResult nuts(const BatchedLogDensity& f, int64_t dim, const NutsOptions& options = {});

}  // namespace diffvi::vi
