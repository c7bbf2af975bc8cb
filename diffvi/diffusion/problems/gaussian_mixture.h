// Data with a known diffusion: x ~ Σ_k w_k N(μ_k, diag(s_k²)) in D dims. Every forward marginal is
// again such a mixture, p_t = Σ_k w_k N(α_t μ_k, diag(α_t² s_k² + σ_t²)), so the optimal
// ε-prediction ε*(z, t) = −σ_t ∇ log p_t(z) = σ_t Σ_k r_k(z) (z − α_t μ_k) / (α_t² s_k² + σ_t²)
// is closed form (r_k the posterior component weights), and for one component the
// probability-flow ODE has the exact solution
//   x(t) = α_t μ + sqrt(α_t² s² + σ_t²) (z_T − α_T μ) / sqrt(α_T² s² + σ_T²).
// These are the exact test problems of the solver tests, benchmarks and repro-dpm-solver.
#pragma once

#include <vector>

#include "diffvi/diffusion/schedules/noise_schedule.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::diffusion {

class GaussianMixtureData {
 public:
  // weights [K] (normalised here), means and stds [K][D]. ValueError on ragged or invalid input.
  GaussianMixtureData(std::vector<double> weights, std::vector<std::vector<double>> means,
                      std::vector<std::vector<double>> stds);
  // One diagonal Gaussian N(mean, diag(std²)).
  static GaussianMixtureData diagonal(std::vector<double> mean, std::vector<double> std);

  int64_t dim() const { return dim_; }
  int64_t components() const { return static_cast<int64_t>(weights_.size()); }

  // ε*(z, t) for z [B, D]; t is a [] or [B] tensor. Differentiable in z and t.
  Tensor optimal_eps(const NoiseSchedule& schedule, const Tensor& z, const Tensor& t) const;
  Tensor optimal_eps(const NoiseSchedule& schedule, const Tensor& z, double t) const;
  // log p_t(z) per row of z [B, D] -> [B].
  Tensor log_density(const NoiseSchedule& schedule, const Tensor& z, double t) const;
  // The exact ODE solution carrying z (at t_from) to t_to; ValueError unless one component.
  Tensor ode_solution(const NoiseSchedule& schedule, const Tensor& z, double t_from,
                      double t_to) const;
  // n draws from the data distribution (t = 0) -> [n, D].
  Tensor sample(int64_t n, Generator& gen, TensorOptions options = {}) const;

 private:
  struct Terms {
    Tensor diff, var, log_resp;  // [B, K, D], [B, K, D], [B, K] (unnormalised log weights)
  };
  Terms terms(const NoiseSchedule& schedule, const Tensor& z, const Tensor& t) const;

  int64_t dim_ = 0;
  std::vector<double> weights_;
  std::vector<double> means_, vars_;  // row-major [K, D]
};

}  // namespace diffvi::diffusion
