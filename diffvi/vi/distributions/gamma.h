// Gamma(concentration α, rate β) and Beta(α, β). Draws come from Marsaglia–Tsang on the host
// (no reparameterised draw: has_rsample() is false).
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class Gamma : public Distribution {
 public:
  // ValueError for a non-positive concentration or rate.
  Gamma(Param concentration, Param rate);
  std::string name() const override { return "Gamma"; }
  Shape batch_shape() const override;
  Support support() const override { return Support::positive(); }
  Tensor log_prob(const Tensor& value) const override;
  Tensor sample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor alpha_, beta_;
};

class Beta : public Distribution {
 public:
  Beta(Param concentration1, Param concentration0);
  std::string name() const override { return "Beta"; }
  Shape batch_shape() const override;
  Support support() const override { return Support::unit_interval(); }
  Tensor log_prob(const Tensor& value) const override;
  Tensor sample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;
  Tensor entropy() const override;

 private:
  Tensor a_, b_;
};

// Standard Gamma(α, 1) draws, one per element of `alpha` (already of the output shape).
Tensor standard_gamma(const Tensor& alpha, Generator& gen);

}  // namespace diffvi::vi
