// Continuous VP-linear schedule (ScoreSDE): β(t) = β0 + t (β1 − β0), so
// log α_t = −¼ t² (β1 − β0) − ½ t β0, with the closed-form inverse
// t(λ) = 2L / (sqrt(β0² + 2 (β1 − β0) L) + β0), L = log(1 + e^{−2λ}).
#pragma once

#include "diffvi/diffusion/schedules/noise_schedule.h"

namespace diffvi::diffusion {

class VPLinear : public NoiseSchedule {
 public:
  // ValueError unless 0 <= beta0 < beta1.
  explicit VPLinear(double beta0 = 0.1, double beta1 = 20.0);

  double log_alpha(double t) const override;
  double d_log_alpha_dt(double t) const override;
  double t_of_lambda(double lambda) const override;
  Tensor log_alpha(const Tensor& t) const override;
  Tensor d_log_alpha_dt(const Tensor& t) const override;
  Tensor t_of_lambda(const Tensor& lambda) const override;

  double beta0() const { return beta0_; }
  double beta1() const { return beta1_; }

 private:
  double beta0_, beta1_;
};

}  // namespace diffvi::diffusion
