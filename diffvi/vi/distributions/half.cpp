// HalfNormal and HalfCauchy.
#include "diffvi/vi/distributions/half.h"

#include <cmath>
#include <limits>

#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

using detail::cast_like;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// -inf where value < 0, else lp.
Tensor mask_negative(const Tensor& value, const Tensor& lp) {
  Tensor neg = lt(value, zeros_like(value));
  return where(broadcast_to(neg, lp.shape()), full_like(lp, -kInf), lp);
}
}  // namespace

HalfNormal::HalfNormal(Param scale) : scale_(scale.t) {
  detail::check_positive(name(), "scale", scale_);
}

Tensor HalfNormal::log_prob(const Tensor& value) const {
  // log 2 - 0.5 log(2π) - log σ - x² / (2σ²)
  Tensor s = cast_like(scale_, value);
  Tensor lp = sub(sub(mul(square(div(value, s)), -0.5), log(s)), 0.22579135264472743);
  return mask_negative(value, lp);
}

Tensor HalfNormal::rsample(const Shape& sample_shape, Generator& gen) const {
  Tensor eps = detail::std_normal(detail::concat(sample_shape, batch_shape()), gen, scale_.dtype());
  return mul(scale_, abs(eps));
}

Tensor HalfNormal::mean() const { return mul(scale_, std::sqrt(2.0 / M_PI)); }
Tensor HalfNormal::variance() const { return mul(square(scale_), 1.0 - 2.0 / M_PI); }
Tensor HalfNormal::entropy() const {
  // 0.5 log(π σ² / 2) + 0.5
  return add(log(scale_), 0.5 * std::log(M_PI / 2) + 0.5);
}

HalfCauchy::HalfCauchy(Param scale) : scale_(scale.t) {
  detail::check_positive(name(), "scale", scale_);
}

Tensor HalfCauchy::log_prob(const Tensor& value) const {
  // log(2 / (π σ)) - log(1 + (x/σ)²)
  Tensor s = cast_like(scale_, value);
  Tensor lp = sub(rsub(std::log(2.0 / M_PI), log(s)), log1p(square(div(value, s))));
  return mask_negative(value, lp);
}

Tensor HalfCauchy::rsample(const Shape& sample_shape, Generator& gen) const {
  // σ tan(π u / 2), u ~ U(0, 1): the inverse CDF.
  Tensor u = detail::std_uniform(detail::concat(sample_shape, batch_shape()), gen, scale_.dtype());
  Tensor a = mul(u, M_PI / 2);
  return mul(scale_, div(sin(a), cos(a)));
}

Tensor HalfCauchy::mean() const { return full_like(scale_, kInf); }
Tensor HalfCauchy::variance() const { return full_like(scale_, kInf); }
Tensor HalfCauchy::entropy() const { return add(log(scale_), std::log(2 * M_PI)); }

}  // namespace diffvi::vi
