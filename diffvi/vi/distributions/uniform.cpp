// Uniform.
#include "diffvi/vi/distributions/uniform.h"

#include <limits>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

using detail::cast_like;

Uniform::Uniform(Param low, Param high) {
  const DType dt = detail::param_dtype({&low.t, &high.t});
  low_ = to(low.t, dt);
  high_ = to(high.t, dt);
  if (validation_enabled()) {
    NoGradGuard no_grad;
    detail::check_positive(name(), "high - low (high must exceed low)", sub(high_, low_));
  }
}

Shape Uniform::batch_shape() const { return detail::broadcast_all({&low_, &high_}); }

Support Uniform::support() const {
  if (low_.numel() != 1 || high_.numel() != 1) {
    throw ValueError("Uniform: support with non-scalar bounds " + describe(low_) + ", " +
                     describe(high_) + " has no single interval");
  }
  NoGradGuard no_grad;
  return Support::interval(low_.item(), high_.item());
}

Tensor Uniform::log_prob(const Tensor& value) const {
  Tensor lo = cast_like(low_, value), hi = cast_like(high_, value);
  Tensor lp = neg(log(sub(hi, lo)));
  lp = broadcast_to(lp, broadcast_shapes(lp.shape(), value.shape(), "Uniform.log_prob"));
  Tensor inside = mul(ge(value, lo), lt(value, hi));
  return where(broadcast_to(inside, lp.shape()), lp,
               full_like(lp, -std::numeric_limits<double>::infinity()));
}

Tensor Uniform::rsample(const Shape& sample_shape, Generator& gen) const {
  Tensor u = detail::std_uniform(detail::concat(sample_shape, batch_shape()), gen, low_.dtype());
  return add(low_, mul(sub(high_, low_), u));
}

Tensor Uniform::mean() const { return mul(add(low_, high_), 0.5); }
Tensor Uniform::variance() const { return div(square(sub(high_, low_)), 12.0); }
Tensor Uniform::entropy() const { return log(sub(high_, low_)); }

}  // namespace diffvi::vi
