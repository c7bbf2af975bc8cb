// Uniform(low, high): constant density on [low, high).
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class Uniform : public Distribution {
 public:
  // ValueError "Uniform: high must exceed low" unless low < high everywhere.
  Uniform(Param low, Param high);
  std::string name() const override { return "Uniform"; }
  Shape batch_shape() const override;
  // interval(low, high); ValueError when the bounds are not scalars (a latent site needs one
  // interval to build its bijector).
  Support support() const override;
  // -log(high - low) inside the support, -inf outside.
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor low_, high_;
};

}  // namespace diffvi::vi
