// Discrete-time schedules (DDPM): N steps with betas β_1..β_N, log α_n = ½ Σ_{k≤n} log(1 − β_k)
// on the grid t_n = n / N (n = 1..N). Continuous time follows DPM-Solver: log α(t) is the
// piecewise-linear interpolation of (t_n, log α_n), extrapolated linearly beyond the ends, and
// t(λ) interpolates the other way. Short chains (N = 50, 100 with the usual linear betas) end far
// from noise (ᾱ_T = 0.60 / 0.36), yet samplers start from N(0, I); construction warns on stderr
// when ᾱ_T > 0.01 so that mistake is visible.
#pragma once

#include <vector>

#include "diffvi/diffusion/schedules/noise_schedule.h"

namespace diffvi::diffusion {

class DiscreteSchedule : public NoiseSchedule {
 public:
  // ValueError unless every β is in (0, 1) and there are at least 2.
  explicit DiscreteSchedule(std::vector<double> betas, bool warn = true);

  double log_alpha(double t) const override;
  double d_log_alpha_dt(double t) const override;
  double t_of_lambda(double lambda) const override;
  double t_eps() const override { return 1.0 / static_cast<double>(size()); }
  using NoiseSchedule::d_log_alpha_dt;
  using NoiseSchedule::log_alpha;
  using NoiseSchedule::t_of_lambda;

  int64_t size() const { return static_cast<int64_t>(betas_.size()); }
  const std::vector<double>& betas() const { return betas_; }
  // ᾱ_n = Π_{k≤n} (1 − β_k) for n = 1..N (index n − 1).
  double alpha_bar_at(int64_t n) const;
  double alpha_bar_T() const { return alpha_bar_at(size()); }
  // The continuous time of step n (n / N).
  double time_of_step(int64_t n) const { return static_cast<double>(n) / size(); }

 private:
  int64_t segment(double t) const;  // index k with t in [t_k, t_{k+1}] (clamped to the ends)
  std::vector<double> betas_;
  std::vector<double> t_;          // t_n = n / N, n = 1..N
  std::vector<double> log_alpha_;  // log α_n
};

// β_n = linspace(beta_start, beta_end, N): the DDPM schedule (defaults 1e-4 .. 0.02).
class DiscreteLinearBeta : public DiscreteSchedule {
 public:
  explicit DiscreteLinearBeta(int64_t n, double beta_start = 1e-4, double beta_end = 0.02,
                              bool warn = true);
};

}  // namespace diffvi::diffusion
