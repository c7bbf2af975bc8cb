// VDM's fixed linear schedule in γ = −log SNR: γ(t) = γ_min + (γ_max − γ_min) t, so
// σ_t² = sigmoid(γ_t) and α_t² = sigmoid(−γ_t). Defaults γ_min = −13.3, γ_max = 5.
#pragma once

#include "diffvi/diffusion/schedules/noise_schedule.h"

namespace diffvi::diffusion {

class FixedLinearGamma : public NoiseSchedule {
 public:
  explicit FixedLinearGamma(double gamma_min = -13.3, double gamma_max = 5.0);

  double log_alpha(double t) const override;
  double d_log_alpha_dt(double t) const override;
  double t_of_lambda(double lambda) const override;
  Tensor log_alpha(const Tensor& t) const override;
  Tensor d_log_alpha_dt(const Tensor& t) const override;
  Tensor t_of_lambda(const Tensor& lambda) const override;
  Tensor lambda(const Tensor& t) const override;  // exact: −γ/2
  using NoiseSchedule::lambda;

  double gamma_min() const { return gamma_min_; }
  double gamma_max() const { return gamma_max_; }

 private:
  double gamma_min_, gamma_max_;
};

}  // namespace diffvi::diffusion
