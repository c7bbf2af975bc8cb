// MixtureSameFamily: a finite mixture of one family, p(x) = Σ_k w_k p_k(x). The components'
// batch shape ends in K (the mixture's batch shape is the rest), as in PyTorch.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

#include "diffvi/vi/distributions/categorical.h"
#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class MixtureSameFamily : public Distribution {
 public:
  // ShapeError unless the components' last batch dim equals the number of categories.
  template <class D>
  requires std::is_base_of_v<Distribution, D> MixtureSameFamily(Categorical mixing, D components)
      : MixtureSameFamily(std::move(mixing), std::make_shared<D>(std::move(components))) {}
  MixtureSameFamily(Categorical mixing, DistributionPtr components);

  std::string name() const override { return "MixtureSameFamily"; }
  Shape batch_shape() const override;
  Shape event_shape() const override { return components_->event_shape(); }
  Support support() const override { return components_->support(); }
  // logsumexp_k(log w_k + log p_k(x)).
  Tensor log_prob(const Tensor& value) const override;
  // Ancestral draw: a category per element, then that component's draw (no rsample).
  Tensor sample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  // Law of total variance.
  Tensor variance() const override;

  const Categorical& mixing() const { return mixing_; }
  const Distribution& components() const { return *components_; }

 private:
  // Mixing weights [..., K] with trailing singleton dims for the event.
  Tensor weights_for_event() const;
  Categorical mixing_;
  DistributionPtr components_;
};

}  // namespace diffvi::vi
