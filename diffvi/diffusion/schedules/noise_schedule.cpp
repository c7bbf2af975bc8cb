#include "diffvi/diffusion/schedules/noise_schedule.h"

#include <cmath>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::diffusion {

Tensor map_with_derivative(const Tensor& x, const std::function<double(double)>& f,
                           const std::function<double(double)>& df) {
  std::vector<double> in = x.to_vector<double>();
  std::vector<double> out(in.size()), der;
  for (size_t i = 0; i < in.size(); ++i) out[i] = f(in[i]);
  TensorOptions options = TensorOptions(x.dtype()).set_device(x.device());
  Tensor y = from_vector(out, x.shape(), options);
  if (!needs_grad({&x})) return y;
  der.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) der[i] = df(in[i]);
  Tensor slope = from_vector(der, x.shape(), options);
  return record("schedule_map", y, {x},
                [slope](const TensorList&, const Tensor& grad_out, const Tensor&) {
                  return std::vector<Tensor>{mul(grad_out, slope)};
                });
}

double log_alpha_of_lambda(double lambda) {
  // −½ softplus(−2λ), written so neither branch overflows.
  const double u = -2.0 * lambda;
  const double softplus = u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
  return -0.5 * softplus;
}

// --- batched defaults ---------------------------------------------------------------------------

Tensor NoiseSchedule::log_alpha(const Tensor& t) const {
  return map_with_derivative(
      t, [this](double s) { return log_alpha(s); }, [this](double s) { return d_log_alpha_dt(s); });
}

Tensor NoiseSchedule::d_log_alpha_dt(const Tensor& t) const {
  // Only the value is needed by the losses that use it; a central difference gives the slope.
  return map_with_derivative(
      t, [this](double s) { return d_log_alpha_dt(s); },
      [this](double s) {
        const double e = 1e-6;
        return (d_log_alpha_dt(s + e) - d_log_alpha_dt(s - e)) / (2 * e);
      });
}

Tensor NoiseSchedule::t_of_lambda(const Tensor& lambda) const {
  // dt/dλ = 1 / (dλ/dt), and dλ/dt = (d log α/dt) / σ².
  return map_with_derivative(
      lambda, [this](double l) { return t_of_lambda(l); },
      [this](double l) {
        const double t = t_of_lambda(l);
        const double s = sigma(t);
        return s * s / d_log_alpha_dt(t);
      });
}

// --- scalar derived -----------------------------------------------------------------------------

double NoiseSchedule::alpha(double t) const { return std::exp(log_alpha(t)); }
double NoiseSchedule::sigma(double t) const { return std::sqrt(-std::expm1(2 * log_alpha(t))); }
double NoiseSchedule::log_sigma(double t) const {
  return 0.5 * std::log(-std::expm1(2 * log_alpha(t)));
}
double NoiseSchedule::lambda(double t) const { return log_alpha(t) - log_sigma(t); }
double NoiseSchedule::gamma(double t) const { return -2 * lambda(t); }
double NoiseSchedule::dgamma_dt(double t) const {
  const double s2 = -std::expm1(2 * log_alpha(t));
  return -2 * d_log_alpha_dt(t) / s2;
}

// --- batched derived ----------------------------------------------------------------------------

Tensor NoiseSchedule::alpha(const Tensor& t) const { return exp(log_alpha(t)); }
Tensor NoiseSchedule::sigma(const Tensor& t) const { return sqrt(neg(expm1(2.0 * log_alpha(t)))); }
Tensor NoiseSchedule::log_sigma(const Tensor& t) const {
  return 0.5 * log(neg(expm1(2.0 * log_alpha(t))));
}
Tensor NoiseSchedule::lambda(const Tensor& t) const {
  Tensor la = log_alpha(t);
  return la - 0.5 * log(neg(expm1(2.0 * la)));
}
Tensor NoiseSchedule::gamma(const Tensor& t) const { return -2.0 * lambda(t); }
Tensor NoiseSchedule::dgamma_dt(const Tensor& t) const {
  return -2.0 * d_log_alpha_dt(t) / neg(expm1(2.0 * log_alpha(t)));
}

}  // namespace diffvi::diffusion
