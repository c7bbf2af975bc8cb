// Gamma and Beta.
#include "diffvi/vi/distributions/gamma.h"

#include <cmath>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/vi/distributions/special.h"

namespace diffvi::vi {

using detail::cast_like;

namespace {
constexpr uint64_t kCountersPerDraw = 256;  // Philox counters reserved for one rejection loop

// Marsaglia & Tsang (2000) for α >= 1; α < 1 boosted by U^(1/α).
double gamma_draw(double alpha, uint64_t seed, uint64_t base) {
  uint64_t k = 0;
  auto uniform = [&] { return philox_uniform(seed, base, k++ % kCountersPerDraw); };
  auto normal = [&] { return philox_normal(seed, base, k++ % kCountersPerDraw); };
  double boost = 1;
  if (alpha < 1) {
    boost = std::pow(uniform(), 1 / alpha);
    alpha += 1;
  }
  const double d = alpha - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (int attempt = 0; attempt < 100; ++attempt) {
    double x = normal(), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * boost;
  }
  return d * boost;  // practically unreachable (acceptance rate > 95%)
}
}  // namespace

Tensor standard_gamma(const Tensor& alpha, Generator& gen) {
  NoGradGuard no_grad;
  std::vector<double> a = alpha.to_vector<double>(), out(a.size());
  const uint64_t base = gen.advance(a.size() * kCountersPerDraw);
  for (size_t i = 0; i < a.size(); ++i) {
    out[i] = gamma_draw(a[i], gen.seed(), base + i * kCountersPerDraw);
  }
  return from_vector(out, alpha.shape(), TensorOptions(alpha.dtype()));
}

Gamma::Gamma(Param concentration, Param rate) {
  const DType dt = detail::param_dtype({&concentration.t, &rate.t});
  alpha_ = to(concentration.t, dt);
  beta_ = to(rate.t, dt);
  detail::check_positive(name(), "concentration", alpha_);
  detail::check_positive(name(), "rate", beta_);
}

Shape Gamma::batch_shape() const { return detail::broadcast_all({&alpha_, &beta_}); }

Tensor Gamma::log_prob(const Tensor& value) const {
  // α log β + (α - 1) log x - β x - lgamma(α)
  Tensor a = cast_like(alpha_, value), b = cast_like(beta_, value);
  return sub(sub(add(mul(a, log(b)), mul(sub(a, 1.0), log(value))), mul(b, value)), lgamma(a));
}

Tensor Gamma::sample(const Shape& sample_shape, Generator& gen) const {
  NoGradGuard no_grad;
  const Shape shape = detail::concat(sample_shape, batch_shape());
  Tensor g = standard_gamma(contiguous(broadcast_to(alpha_, shape)), gen);
  return div(g, beta_);
}

Tensor Gamma::mean() const { return div(alpha_, beta_); }
Tensor Gamma::variance() const { return div(alpha_, square(beta_)); }
Tensor Gamma::entropy() const {
  // α - log β + lgamma(α) + (1 - α) ψ(α)
  return add(add(sub(alpha_, log(beta_)), lgamma(alpha_)), mul(rsub(1.0, alpha_), digamma(alpha_)));
}

Beta::Beta(Param concentration1, Param concentration0) {
  const DType dt = detail::param_dtype({&concentration1.t, &concentration0.t});
  a_ = to(concentration1.t, dt);
  b_ = to(concentration0.t, dt);
  detail::check_positive(name(), "concentration1", a_);
  detail::check_positive(name(), "concentration0", b_);
}

Shape Beta::batch_shape() const { return detail::broadcast_all({&a_, &b_}); }

Tensor Beta::log_prob(const Tensor& value) const {
  Tensor a = cast_like(a_, value), b = cast_like(b_, value);
  return sub(add(mul(sub(a, 1.0), log(value)), mul(sub(b, 1.0), log1p(neg(value)))),
             log_beta(a, b));
}

Tensor Beta::sample(const Shape& sample_shape, Generator& gen) const {
  NoGradGuard no_grad;
  const Shape shape = detail::concat(sample_shape, batch_shape());
  Tensor x = standard_gamma(contiguous(broadcast_to(a_, shape)), gen);
  Tensor y = standard_gamma(contiguous(broadcast_to(b_, shape)), gen);
  return div(x, add(x, y));
}

Tensor Beta::mean() const { return div(a_, add(a_, b_)); }
Tensor Beta::variance() const {
  Tensor s = add(a_, b_);
  return div(mul(a_, b_), mul(square(s), add(s, 1.0)));
}
Tensor Beta::entropy() const {
  // log B(a, b) - (a-1) ψ(a) - (b-1) ψ(b) + (a+b-2) ψ(a+b)
  Tensor s = add(a_, b_);
  return add(
      sub(sub(log_beta(a_, b_), mul(sub(a_, 1.0), digamma(a_))), mul(sub(b_, 1.0), digamma(b_))),
      mul(sub(s, 2.0), digamma(s)));
}

}  // namespace diffvi::vi
