// Parameter-free activation modules, for Sequential stacks and printed trees. Where an
// activation follows a Linear, prefer the Linear's fused activation (one kernel, no extra pass).
#pragma once

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/module.h"

namespace diffvi::nn {

// GELU, exact (erf) by default or the tanh approximation.
class GELU : public Module {
 public:
  explicit GELU(GeluApprox approx = GeluApprox::none);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  GeluApprox approx_;
};

// x·sigmoid(x).
class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& x) override { return silu(x); }
};

// max(x, 0).
class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override { return relu(x); }
};

// log(1 + exp(beta·x)) / beta; linear above `threshold` (in beta·x), as torch.nn.Softplus.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  double beta_, threshold_;
};

// tanh(x).
class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override { return tanh(x); }
};

// A module for an Activation enum value (none = identity), e.g. from an MLP's options.
ModulePtr make_activation(Activation act);

}  // namespace diffvi::nn
