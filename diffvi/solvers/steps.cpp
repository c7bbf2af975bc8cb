#include "diffvi/solvers/steps.h"

#include <cmath>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::solvers {

Stepper::Point Stepper::at(double t) const {
  const auto& ns = model_.schedule();
  Point p;
  p.la = ns.log_alpha(t);
  p.ls = ns.log_sigma(t);
  p.a = std::exp(p.la);
  p.sig = std::exp(p.ls);
  p.lam = p.la - p.ls;
  return p;
}

double Stepper::time_at_lambda(double lambda) const {
  return model_.schedule().t_of_lambda(lambda);
}

Tensor Stepper::evaluate(const Tensor& x, double t) const {
  return algorithm_ == Algorithm::dpmsolver ? model_.noise(x, t) : model_.data(x, t);
}

Tensor Stepper::first(const Tensor& x, double s, double t, StepCache& cache) const {
  const Point ps = at(s), pt = at(t);
  const double h = pt.lam - ps.lam;
  if (!cache.at_s.defined()) cache.at_s = evaluate(x, s);
  if (algorithm_ == Algorithm::dpmsolver) {
    return std::exp(pt.la - ps.la) * x - (pt.sig * std::expm1(h)) * cache.at_s;
  }
  return std::exp(pt.ls - ps.ls) * x - (pt.a * std::expm1(-h)) * cache.at_s;
}

Tensor Stepper::second(const Tensor& x, double s, double t, double r1, StepCache& cache) const {
  const Point ps = at(s), pt = at(t);
  const double h = pt.lam - ps.lam;
  const double s1 = time_at_lambda(ps.lam + r1 * h);
  const Point p1 = at(s1);
  if (!cache.at_s.defined()) cache.at_s = evaluate(x, s);
  const Tensor& m0 = cache.at_s;
  if (algorithm_ == Algorithm::dpmsolver) {
    const double phi_11 = std::expm1(r1 * h), phi_1 = std::expm1(h);
    if (!cache.at_s1.defined()) {
      cache.at_s1 = evaluate(std::exp(p1.la - ps.la) * x - (p1.sig * phi_11) * m0, s1);
    }
    return std::exp(pt.la - ps.la) * x - (pt.sig * phi_1) * m0 -
           (0.5 / r1 * pt.sig * phi_1) * (cache.at_s1 - m0);
  }
  const double phi_11 = std::expm1(-r1 * h), phi_1 = std::expm1(-h);
  if (!cache.at_s1.defined()) {
    cache.at_s1 = evaluate(std::exp(p1.ls - ps.ls) * x - (p1.a * phi_11) * m0, s1);
  }
  return std::exp(pt.ls - ps.ls) * x - (pt.a * phi_1) * m0 -
         (0.5 / r1 * pt.a * phi_1) * (cache.at_s1 - m0);
}

Tensor Stepper::third(const Tensor& x, double s, double t, double r1, double r2,
                      StepCache& cache) const {
  const Point ps = at(s), pt = at(t);
  const double h = pt.lam - ps.lam;
  const double s1 = time_at_lambda(ps.lam + r1 * h), s2 = time_at_lambda(ps.lam + r2 * h);
  const Point p1 = at(s1), p2 = at(s2);
  if (!cache.at_s.defined()) cache.at_s = evaluate(x, s);
  const Tensor& m0 = cache.at_s;
  if (algorithm_ == Algorithm::dpmsolver) {
    const double phi_11 = std::expm1(r1 * h), phi_12 = std::expm1(r2 * h), phi_1 = std::expm1(h);
    const double phi_22 = phi_12 / (r2 * h) - 1, phi_2 = phi_1 / h - 1;
    if (!cache.at_s1.defined()) {
      cache.at_s1 = evaluate(std::exp(p1.la - ps.la) * x - (p1.sig * phi_11) * m0, s1);
    }
    Tensor d1 = cache.at_s1 - m0;
    Tensor u2 =
        std::exp(p2.la - ps.la) * x - (p2.sig * phi_12) * m0 - (r2 / r1 * p2.sig * phi_22) * d1;
    Tensor d2 = evaluate(u2, s2) - m0;
    return std::exp(pt.la - ps.la) * x - (pt.sig * phi_1) * m0 - (pt.sig * phi_2 / r2) * d2;
  }
  const double phi_11 = std::expm1(-r1 * h), phi_12 = std::expm1(-r2 * h), phi_1 = std::expm1(-h);
  const double phi_22 = phi_12 / (r2 * h) + 1, phi_2 = phi_1 / h + 1;
  if (!cache.at_s1.defined()) {
    cache.at_s1 = evaluate(std::exp(p1.ls - ps.ls) * x - (p1.a * phi_11) * m0, s1);
  }
  Tensor d1 = cache.at_s1 - m0;
  Tensor u2 = std::exp(p2.ls - ps.ls) * x - (p2.a * phi_12) * m0 + (r2 / r1 * p2.a * phi_22) * d1;
  Tensor d2 = evaluate(u2, s2) - m0;
  return std::exp(pt.ls - ps.ls) * x - (pt.a * phi_1) * m0 + (pt.a * phi_2 / r2) * d2;
}

Tensor Stepper::singlestep(const Tensor& x, double s, double t, int order, double r1, double r2,
                           StepCache& cache) const {
  switch (order) {
    case 1:
      return first(x, s, t, cache);
    case 2:
      return second(x, s, t, r1, cache);
    case 3:
      return third(x, s, t, r1, r2, cache);
    default:
      throw ValueError("Stepper::singlestep: order must be 1, 2 or 3");
  }
}

Tensor Stepper::multistep(const Tensor& x, const std::vector<Tensor>& values,
                          const std::vector<double>& times, double t, int order,
                          double d2_factor) const {
  if (order < 1 || order > 3 || values.size() < static_cast<size_t>(order) ||
      times.size() != values.size()) {
    throw ValueError("Stepper::multistep: need order 1..3 and that many previous values");
  }
  const size_t n = values.size();
  const Point p0 = at(times[n - 1]), pt = at(t);
  const double h = pt.lam - p0.lam;
  const Tensor& v0 = values[n - 1];
  const bool noise = algorithm_ == Algorithm::dpmsolver;
  // The zeroth-order part is DDIM in either form.
  const double phi_1 = noise ? std::expm1(h) : std::expm1(-h);
  const double c = noise ? pt.sig : pt.a;  // σ_t (noise) or α_t (data) in front of every term
  Tensor out = noise ? std::exp(pt.la - p0.la) * x - (c * phi_1) * v0
                     : std::exp(pt.ls - p0.ls) * x - (c * phi_1) * v0;
  if (order == 1) return out;
  const double lam1 = at(times[n - 2]).lam;
  const double r0 = (p0.lam - lam1) / h;
  Tensor d1_0 = (1.0 / r0) * (v0 - values[n - 2]);
  if (order == 2) return out - (0.5 * c * phi_1) * d1_0;
  const double r1 = (lam1 - at(times[n - 3]).lam) / h;
  Tensor d1_1 = (1.0 / r1) * (values[n - 2] - values[n - 3]);
  Tensor d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1);
  Tensor d2 = (1.0 / (r0 + r1)) * (d1_0 - d1_1);
  if (noise) {
    const double phi_2 = phi_1 / h - 1, phi_3 = phi_2 / h - 0.5;
    return out - (c * phi_2) * d1 - (d2_factor * c * phi_3) * d2;
  }
  const double phi_2 = phi_1 / h + 1, phi_3 = phi_2 / h - 0.5;
  return out + (c * phi_2) * d1 - (d2_factor * c * phi_3) * d2;
}

Tensor Stepper::ddim_stochastic(const Tensor& x, double s, double t, double eta,
                                Generator& gen) const {
  const Point ps = at(s), pt = at(t);
  const double h = pt.lam - ps.lam;
  const double frac = -std::expm1(-2 * h);  // 1 − e^{−2h}: the share of σ_t² that is fresh noise
  Tensor eps = model_.noise(x, s);
  Tensor x0 = (x - ps.sig * eps) / ps.a;
  Tensor z = randn(x.shape(), gen, TensorOptions(x.dtype()).set_device(x.device()));
  return pt.a * x0 + (pt.sig * std::sqrt(std::max(0.0, 1 - eta * eta * frac))) * eps +
         (pt.sig * eta * std::sqrt(frac)) * z;
}

}  // namespace diffvi::solvers
