// Normal and LogNormal.
#include "diffvi/vi/distributions/normal.h"

#include <cmath>

#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

using detail::cast_like;

namespace {
constexpr double kHalfLog2Pi = 0.91893853320467274178;  // 0.5 log(2π)

// Normal log density of x, with loc/scale cast to x's dtype.
Tensor normal_log_prob(const Tensor& x, const Tensor& loc, const Tensor& scale) {
  Tensor s = cast_like(scale, x);
  Tensor z = div(sub(x, cast_like(loc, x)), s);
  return sub(sub(mul(square(z), -0.5), log(s)), kHalfLog2Pi);
}
}  // namespace

Normal::Normal(Param loc, Param scale) {
  const DType dt = detail::param_dtype({&loc.t, &scale.t});
  loc_ = to(loc.t, dt);
  scale_ = to(scale.t, dt);
  detail::check_positive(name(), "scale", scale_);
}

Shape Normal::batch_shape() const { return detail::broadcast_all({&loc_, &scale_}); }

Tensor Normal::log_prob(const Tensor& value) const { return normal_log_prob(value, loc_, scale_); }

Tensor Normal::rsample(const Shape& sample_shape, Generator& gen) const {
  Tensor eps = detail::std_normal(detail::concat(sample_shape, batch_shape()), gen, loc_.dtype());
  return add(loc_, mul(scale_, eps));
}

Tensor Normal::mean() const { return broadcast_to(loc_, batch_shape()); }
Tensor Normal::variance() const { return broadcast_to(square(scale_), batch_shape()); }
Tensor Normal::entropy() const {
  return broadcast_to(add(log(scale_), 0.5 + kHalfLog2Pi), batch_shape());
}

LogNormal::LogNormal(Param loc, Param scale) {
  const DType dt = detail::param_dtype({&loc.t, &scale.t});
  loc_ = to(loc.t, dt);
  scale_ = to(scale.t, dt);
  detail::check_positive(name(), "scale", scale_);
}

Shape LogNormal::batch_shape() const { return detail::broadcast_all({&loc_, &scale_}); }

Tensor LogNormal::log_prob(const Tensor& value) const {
  Tensor lx = log(value);
  return sub(normal_log_prob(lx, loc_, scale_), lx);
}

Tensor LogNormal::rsample(const Shape& sample_shape, Generator& gen) const {
  Tensor eps = detail::std_normal(detail::concat(sample_shape, batch_shape()), gen, loc_.dtype());
  return exp(add(loc_, mul(scale_, eps)));
}

Tensor LogNormal::mean() const {
  return broadcast_to(exp(add(loc_, mul(square(scale_), 0.5))), batch_shape());
}
Tensor LogNormal::variance() const {
  Tensor s2 = square(scale_);
  return broadcast_to(mul(expm1(s2), exp(add(mul(loc_, 2.0), s2))), batch_shape());
}
Tensor LogNormal::entropy() const {
  return broadcast_to(add(add(loc_, log(scale_)), 0.5 + kHalfLog2Pi), batch_shape());
}

}  // namespace diffvi::vi
