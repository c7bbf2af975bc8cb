#include "diffvi/diffusion/schedules/vp_linear.h"

#include <cmath>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

VPLinear::VPLinear(double beta0, double beta1) : beta0_(beta0), beta1_(beta1) {
  if (!(beta0 >= 0 && beta1 > beta0)) throw ValueError("VPLinear: need 0 <= beta0 < beta1");
}

double VPLinear::log_alpha(double t) const {
  return -0.25 * t * t * (beta1_ - beta0_) - 0.5 * t * beta0_;
}
double VPLinear::d_log_alpha_dt(double t) const {
  return -0.5 * t * (beta1_ - beta0_) - 0.5 * beta0_;
}

double VPLinear::t_of_lambda(double lambda) const {
  const double l = -2.0 * log_alpha_of_lambda(lambda);  // log(1 + e^{−2λ})
  return 2 * l / (std::sqrt(beta0_ * beta0_ + 2 * (beta1_ - beta0_) * l) + beta0_);
}

Tensor VPLinear::log_alpha(const Tensor& t) const {
  return -0.25 * (beta1_ - beta0_) * square(t) - 0.5 * beta0_ * t;
}
Tensor VPLinear::d_log_alpha_dt(const Tensor& t) const {
  return -0.5 * (beta1_ - beta0_) * t - 0.5 * beta0_;
}
Tensor VPLinear::t_of_lambda(const Tensor& lambda) const {
  Tensor l = softplus(-2.0 * lambda);
  return 2.0 * l / (sqrt(beta0_ * beta0_ + 2.0 * (beta1_ - beta0_) * l) + beta0_);
}

}  // namespace diffvi::diffusion
