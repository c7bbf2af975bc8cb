#include "diffvi/diffusion/problems/gaussian_mixture.h"

#include <cmath>
#include <numbers>
#include <string>

#include "diffvi/autograd/ops.h"
#include "diffvi/diffusion/process/forward_process.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

GaussianMixtureData::GaussianMixtureData(std::vector<double> weights,
                                         std::vector<std::vector<double>> means,
                                         std::vector<std::vector<double>> stds)
    : weights_(std::move(weights)) {
  const size_t k = weights_.size();
  if (k == 0 || means.size() != k || stds.size() != k || means[0].empty()) {
    throw ValueError("GaussianMixtureData: need K >= 1 weights, means and stds of equal count");
  }
  dim_ = static_cast<int64_t>(means[0].size());
  double total = 0;
  for (size_t i = 0; i < k; ++i) {
    if (!(weights_[i] > 0)) throw ValueError("GaussianMixtureData: weights must be positive");
    if (means[i].size() != static_cast<size_t>(dim_) || stds[i].size() != means[i].size()) {
      throw ValueError("GaussianMixtureData: component " + std::to_string(i) + " is ragged");
    }
    total += weights_[i];
    for (int64_t d = 0; d < dim_; ++d) {
      if (!(stds[i][d] > 0)) throw ValueError("GaussianMixtureData: stds must be positive");
      means_.push_back(means[i][d]);
      vars_.push_back(stds[i][d] * stds[i][d]);
    }
  }
  for (double& w : weights_) w /= total;
}

GaussianMixtureData GaussianMixtureData::diagonal(std::vector<double> mean,
                                                  std::vector<double> std) {
  return GaussianMixtureData({1.0}, {std::move(mean)}, {std::move(std)});
}

GaussianMixtureData::Terms GaussianMixtureData::terms(const NoiseSchedule& schedule,
                                                      const Tensor& z, const Tensor& t) const {
  if (z.dim() != 2 || z.size(1) != dim_) {
    throw ShapeError("GaussianMixtureData: z must be [B, " + std::to_string(dim_) + "], got " +
                     describe(z));
  }
  const int64_t k = components();
  TensorOptions opt = TensorOptions(z.dtype()).set_device(z.device());
  Tensor mu = from_vector(means_, {k, dim_}, opt);
  Tensor s2 = from_vector(vars_, {k, dim_}, opt);
  std::vector<double> lw;
  for (double w : weights_) lw.push_back(std::log(w));
  Tensor log_w = from_vector(lw, {k}, opt);

  Tensor la = schedule.log_alpha(t.dim() == 0 ? t : reshape(t, {t.size(0), 1, 1}));
  Tensor a = exp(la), a2 = exp(2.0 * la), var_noise = neg(expm1(2.0 * la));
  Tensor var = a2 * s2 + var_noise;                       // [B|1, K, D]
  Tensor diff = unsqueeze(z, 1) - a * mu;                 // [B, K, D]
  Tensor quad = sum(square(diff) / var + log(var), {2});  // [B, K]
  Tensor log_resp = log_w - 0.5 * quad - 0.5 * dim_ * std::log(2 * std::numbers::pi);
  return {diff, var, log_resp};
}

Tensor GaussianMixtureData::optimal_eps(const NoiseSchedule& schedule, const Tensor& z,
                                        const Tensor& t) const {
  Terms tm = terms(schedule, z, t);
  Tensor sigma = schedule.sigma(broadcast_time(t, z));  // [] or [B, 1]
  Tensor resp = softmax(tm.log_resp, 1);                // [B, K]
  return sigma * sum(unsqueeze(resp, 2) * tm.diff / tm.var, {1});
}

Tensor GaussianMixtureData::optimal_eps(const NoiseSchedule& schedule, const Tensor& z,
                                        double t) const {
  return optimal_eps(schedule, z,
                     scalar_tensor(t, TensorOptions(z.dtype()).set_device(z.device())));
}

Tensor GaussianMixtureData::log_density(const NoiseSchedule& schedule, const Tensor& z,
                                        double t) const {
  Terms tm = terms(schedule, z, scalar_tensor(t, TensorOptions(z.dtype()).set_device(z.device())));
  return logsumexp(tm.log_resp, {1});
}

Tensor GaussianMixtureData::ode_solution(const NoiseSchedule& schedule, const Tensor& z,
                                         double t_from, double t_to) const {
  if (components() != 1) throw ValueError("GaussianMixtureData::ode_solution: needs K = 1");
  TensorOptions opt = TensorOptions(z.dtype()).set_device(z.device());
  Tensor mu = from_vector(means_, {dim_}, opt), s2 = from_vector(vars_, {dim_}, opt);
  const double a0 = schedule.alpha(t_from), a1 = schedule.alpha(t_to);
  const double v0 = -std::expm1(2 * schedule.log_alpha(t_from));
  const double v1 = -std::expm1(2 * schedule.log_alpha(t_to));
  Tensor scale = sqrt((a1 * a1) * s2 + v1) / sqrt((a0 * a0) * s2 + v0);
  return a1 * mu + scale * (z - a0 * mu);
}

Tensor GaussianMixtureData::sample(int64_t n, Generator& gen, TensorOptions options) const {
  // Component by inverse CDF of one uniform per row, then mean + std · N(0, 1).
  Tensor u = rand({n}, gen, TensorOptions(DType::f64));
  Tensor e = randn({n, dim_}, gen, TensorOptions(DType::f64));
  std::vector<double> uv = u.to_vector<double>(), ev = e.to_vector<double>(), out(ev.size());
  for (int64_t i = 0; i < n; ++i) {
    size_t c = 0;
    double acc = weights_[0];
    while (uv[i] > acc && c + 1 < weights_.size()) acc += weights_[++c];
    for (int64_t d = 0; d < dim_; ++d) {
      out[i * dim_ + d] = means_[c * dim_ + d] + std::sqrt(vars_[c * dim_ + d]) * ev[i * dim_ + d];
    }
  }
  return from_vector(out, {n, dim_}, options);
}

}  // namespace diffvi::diffusion
