#include "diffvi/diffusion/schedules/cosine.h"

#include <cmath>
#include <numbers>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

namespace {
constexpr double kHalfPi = std::numbers::pi / 2;
}  // namespace

Cosine::Cosine(double s, double lambda_clip) : s_(s) {
  if (!(s > 0)) throw ValueError("Cosine: s must be positive");
  log_alpha_0_ = std::log(std::cos(kHalfPi * s / (1 + s)));
  t_max_ = t_of_lambda(lambda_clip);
}

double Cosine::log_alpha(double t) const {
  return std::log(std::cos(kHalfPi * (t + s_) / (1 + s_))) - log_alpha_0_;
}

double Cosine::d_log_alpha_dt(double t) const {
  return -std::tan(kHalfPi * (t + s_) / (1 + s_)) * kHalfPi / (1 + s_);
}

double Cosine::t_of_lambda(double lambda) const {
  const double la = log_alpha_of_lambda(lambda);
  return std::acos(std::exp(la + log_alpha_0_)) * (1 + s_) / kHalfPi - s_;
}

Tensor Cosine::log_alpha(const Tensor& t) const {
  return log(cos((kHalfPi / (1 + s_)) * (t + s_))) - log_alpha_0_;
}

}  // namespace diffvi::diffusion
