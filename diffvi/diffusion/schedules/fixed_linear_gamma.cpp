#include "diffvi/diffusion/schedules/fixed_linear_gamma.h"

#include <cmath>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

FixedLinearGamma::FixedLinearGamma(double gamma_min, double gamma_max)
    : gamma_min_(gamma_min), gamma_max_(gamma_max) {
  if (!(gamma_max > gamma_min)) throw ValueError("FixedLinearGamma: need gamma_min < gamma_max");
}

double FixedLinearGamma::log_alpha(double t) const {
  // log α = ½ log sigmoid(−γ) = −½ softplus(γ) = log_alpha_of_lambda(−γ/2).
  return log_alpha_of_lambda(-0.5 * (gamma_min_ + (gamma_max_ - gamma_min_) * t));
}

double FixedLinearGamma::d_log_alpha_dt(double t) const {
  const double g = gamma_min_ + (gamma_max_ - gamma_min_) * t;
  return -0.5 * (gamma_max_ - gamma_min_) / (1 + std::exp(-g));  // −½ sigmoid(γ) γ'
}

double FixedLinearGamma::t_of_lambda(double lambda) const {
  return (-2 * lambda - gamma_min_) / (gamma_max_ - gamma_min_);
}

Tensor FixedLinearGamma::log_alpha(const Tensor& t) const {
  return -0.5 * softplus(gamma_min_ + (gamma_max_ - gamma_min_) * t);
}
Tensor FixedLinearGamma::d_log_alpha_dt(const Tensor& t) const {
  return (-0.5 * (gamma_max_ - gamma_min_)) * sigmoid(gamma_min_ + (gamma_max_ - gamma_min_) * t);
}
Tensor FixedLinearGamma::t_of_lambda(const Tensor& lambda) const {
  return (-2.0 * lambda - gamma_min_) / (gamma_max_ - gamma_min_);
}
Tensor FixedLinearGamma::lambda(const Tensor& t) const {
  return -0.5 * (gamma_min_ + (gamma_max_ - gamma_min_) * t);
}

}  // namespace diffvi::diffusion
