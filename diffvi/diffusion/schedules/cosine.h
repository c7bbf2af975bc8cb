// Cosine schedule (Nichol & Dhariwal): α_t = cos(π/2 (t + s)/(1 + s)) / cos(π/2 s/(1 + s)),
// s = 0.008. Near t = 1 the schedule plunges to λ ≈ −10, which breaks high-order solvers, so, as
// DPM-Solver does, the usable range ends where λ = −5.1 (t_max() ≈ 0.9946).
#pragma once

#include "diffvi/diffusion/schedules/noise_schedule.h"

namespace diffvi::diffusion {

class Cosine : public NoiseSchedule {
 public:
  explicit Cosine(double s = 0.008, double lambda_clip = -5.1);

  double log_alpha(double t) const override;
  double d_log_alpha_dt(double t) const override;
  double t_of_lambda(double lambda) const override;
  double t_max() const override { return t_max_; }
  Tensor log_alpha(const Tensor& t) const override;
  using NoiseSchedule::d_log_alpha_dt;
  using NoiseSchedule::t_of_lambda;

 private:
  double s_, log_alpha_0_, t_max_;
};

}  // namespace diffvi::diffusion
