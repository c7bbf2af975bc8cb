// MADE (Germain et al. 2015): an MLP whose weight masks make output i depend only on inputs
// < i, giving the (shift, log-scale) conditioner of autoregressive flows. Hidden degrees cycle
// 1..d-1; the last layer starts at zero so a fresh flow is the identity.
#pragma once

#include <vector>

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::vi {

// y = act(x (W ∘ M)ᵀ + b) with a fixed binary mask M [out, in].
class MaskedLinear : public nn::Module {
 public:
  MaskedLinear(const Tensor& mask, Activation act, bool zero_init, Generator& gen, DType dtype);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, mask;

 private:
  Activation act_;
};

class Made : public nn::Module {
 public:
  // dim inputs; outputs 2·dim: shift [.., :dim] and log-scale [.., dim:], each autoregressive.
  Made(int64_t dim, const std::vector<int64_t>& hidden, Activation act, Generator& gen,
       DType dtype);
  // x [n, d] -> (shift [n, d], log_scale [n, d]).
  std::pair<Tensor, Tensor> shift_and_log_scale(const Tensor& x);
  Tensor forward(const Tensor& x) override;  // [n, 2d]

 private:
  int64_t dim_;
  std::vector<std::shared_ptr<MaskedLinear>> layers_;
};

}  // namespace diffvi::vi
