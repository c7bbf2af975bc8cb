// Linear: y = act(x Wᵀ + b) through the fused linear kernel (one oneDNN primitive on the CPU
// backend, bias and activation included). Weight [out, in] and bias [out], PyTorch's layout and
// default initialisation, so a torch.nn.Linear state_dict loads as is.
#pragma once

#include <cstdint>

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::nn {

struct LinearOptions {
  bool bias = true;
  Activation activation = Activation::none;  // fused into the kernel
  DType dtype = DType::f32;

  LinearOptions& set_bias(bool b) {
    bias = b;
    return *this;
  }
  LinearOptions& set_activation(Activation a) {
    activation = a;
    return *this;
  }
  LinearOptions& set_dtype(DType d) {
    dtype = d;
    return *this;
  }
};

class Linear : public Module {
 public:
  // Weight and bias from `gen` as PyTorch does: U(±1/sqrt(in)).
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {},
         Generator& gen = default_generator());

  // x [..., in] -> [..., out]; ShapeError (naming the module path) if x's last dim is not `in`.
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  Activation activation() const { return options_.activation; }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined without bias

 private:
  int64_t in_, out_;
  LinearOptions options_;
};

// The name an Activation prints with ("relu", "gelu", ...), from the list of activations.
using diffvi::activation_name;

}  // namespace diffvi::nn
