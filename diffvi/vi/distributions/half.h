// Half distributions on [0, ∞): |X| for X ~ N(0, scale²) or Cauchy(0, scale). The usual priors
// for scale parameters (eight schools' τ ~ HalfCauchy(5)).
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class HalfNormal : public Distribution {
 public:
  explicit HalfNormal(Param scale);
  std::string name() const override { return "HalfNormal"; }
  Shape batch_shape() const override { return scale_.shape(); }
  Support support() const override { return Support::positive(); }
  // -inf for negative values.
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor scale_;
};

// Mean and variance are infinite (returned as +inf tensors).
class HalfCauchy : public Distribution {
 public:
  explicit HalfCauchy(Param scale);
  std::string name() const override { return "HalfCauchy"; }
  Shape batch_shape() const override { return scale_.shape(); }
  Support support() const override { return Support::positive(); }
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor scale_;
};

}  // namespace diffvi::vi
