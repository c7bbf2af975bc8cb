// Normal and LogNormal: the location-scale Gaussian and its exponential.
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

// N(loc, scale²), elementwise over the broadcast of loc and scale.
class Normal : public Distribution {
 public:
  // ValueError "Normal: scale must be positive" for scale <= 0.
  Normal(Param loc, Param scale);
  std::string name() const override { return "Normal"; }
  Shape batch_shape() const override;
  Support support() const override { return Support::real(); }
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;
  const Tensor& loc() const { return loc_; }
  const Tensor& scale() const { return scale_; }

 private:
  Tensor loc_, scale_;
};

// exp(X) with X ~ N(loc, scale²).
class LogNormal : public Distribution {
 public:
  LogNormal(Param loc, Param scale);
  std::string name() const override { return "LogNormal"; }
  Shape batch_shape() const override;
  Support support() const override { return Support::positive(); }
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor loc_, scale_;
};

}  // namespace diffvi::vi
