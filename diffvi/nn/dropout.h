// Dropout: in training, zeroes each element with probability p and scales the survivors by
// 1/(1-p); identity in eval mode. The mask is drawn from the Generator given at construction (or
// the default one) so a run is reproducible; the generator must outlive the module.
#pragma once

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::nn {

class Dropout : public Module {
 public:
  // ValueError unless 0 <= p < 1.
  explicit Dropout(double p = 0.5, Generator& gen = default_generator());

  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace diffvi::nn
