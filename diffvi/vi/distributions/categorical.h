// Categorical over {0, ..., K-1}, from probabilities or logits in the last dimension.
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class Categorical : public Distribution {
 public:
  // From probabilities [..., K]: ValueError "Categorical: probs ..." when an entry is negative
  // or a row does not sum to one (within 1e-6).
  static Categorical from_probs(const Tensor& probs);
  // From unnormalised logits [..., K] (any real values).
  static Categorical from_logits(const Tensor& logits);

  std::string name() const override { return "Categorical"; }
  Shape batch_shape() const override;
  Support support() const override { return Support::integer(); }
  // `value` holds indices (i64, or floating with integral values), broadcast against the batch.
  Tensor log_prob(const Tensor& value) const override;
  // Indices as i64, by inverse CDF.
  Tensor sample(const Shape& sample_shape, Generator& gen) const override;
  Tensor entropy() const override;

  int64_t num_categories() const { return logits_.size(-1); }
  // Normalised log-probabilities [..., K] (differentiable).
  const Tensor& logits() const { return logits_; }
  Tensor probs() const;

 private:
  explicit Categorical(Tensor normalised_logits) : logits_(std::move(normalised_logits)) {}
  Tensor logits_;
};

}  // namespace diffvi::vi
