// The noise schedule of a variance-preserving diffusion, q(z_t | x) = N(α_t x, σ_t² I) with
// α_t² + σ_t² = 1. A schedule is defined by log α_t (and its t-derivative) and the inverse t(λ)
// of the half log-SNR λ_t = log(α_t / σ_t); everything else is derived here in a numerically
// careful way (σ_t² = −expm1(2 log α_t), never 1 − α_t²).
//
// Every quantity has a scalar double version (solvers plan their steps with it, in f64) and a
// batched Tensor version over a tensor of times. The Tensor versions are differentiable in t:
// closed forms are written with diffvi ops, the rest go through a host map with an exact
// first derivative (see map_with_derivative).
#pragma once

#include <functional>

#include "diffvi/tensor/tensor.h"

namespace diffvi::diffusion {

class NoiseSchedule {
 public:
  virtual ~NoiseSchedule() = default;

  // --- what an implementation defines (scalar) ---
  virtual double log_alpha(double t) const = 0;
  virtual double d_log_alpha_dt(double t) const = 0;
  // The inverse of lambda(t) on [t_min(), t_max()].
  virtual double t_of_lambda(double lambda) const = 0;
  // The largest time solvers start from (1, or earlier where the schedule's tail is clipped).
  virtual double t_max() const { return 1.0; }
  // The default smallest time solvers integrate down to (never 0: λ = +∞ there for most
  // schedules, and the data-prediction form divides by σ_t).
  virtual double t_eps() const { return 1e-3; }

  // --- batched, differentiable (defaults: host map with exact derivative) ---
  virtual Tensor log_alpha(const Tensor& t) const;
  virtual Tensor d_log_alpha_dt(const Tensor& t) const;
  virtual Tensor t_of_lambda(const Tensor& lambda) const;

  // --- derived (scalar) ---
  double alpha(double t) const;
  double sigma(double t) const;
  double log_sigma(double t) const;
  double lambda(double t) const;     // log(α_t / σ_t), decreasing in t
  double gamma(double t) const;      // −2 λ_t = −log SNR(t)
  double dgamma_dt(double t) const;  // −2 (d log α_t / dt) / σ_t²
  double alpha_bar(double t) const { return alpha(t) * alpha(t); }

  // --- derived (batched, differentiable) ---
  Tensor alpha(const Tensor& t) const;
  Tensor sigma(const Tensor& t) const;
  Tensor log_sigma(const Tensor& t) const;
  virtual Tensor lambda(const Tensor& t) const;
  Tensor gamma(const Tensor& t) const;
  Tensor dgamma_dt(const Tensor& t) const;
};

// Applies f elementwise on the host and records an autograd node whose backward multiplies by
// df (evaluated at the forward inputs). First derivatives only: the backward is not itself
// differentiable in x. Keeps x's dtype and device.
Tensor map_with_derivative(const Tensor& x, const std::function<double(double)>& f,
                           const std::function<double(double)>& df);

// log α from λ: −½ log(1 + e^{−2λ}), stable for both signs of λ.
double log_alpha_of_lambda(double lambda);

}  // namespace diffvi::diffusion
