#include "diffvi/nn/activation.h"

#include <memory>
#include <sstream>

namespace diffvi::nn {

GELU::GELU(GeluApprox approx) : Module("GELU"), approx_(approx) {}

Tensor GELU::forward(const Tensor& x) { return gelu(x, approx_); }

std::string GELU::extra_repr() const {
  return approx_ == GeluApprox::tanh ? "approximate=tanh" : "";
}

Softplus::Softplus(double beta, double threshold)
    : Module("Softplus"), beta_(beta), threshold_(threshold) {
  if (!(beta > 0)) throw ValueError("Softplus: beta must be > 0, got " + std::to_string(beta));
}

Tensor Softplus::forward(const Tensor& x) {
  // Where beta·x > threshold the function is x to float precision (PyTorch's reversion to linear).
  const Tensor bx = beta_ == 1.0 ? x : mul(x, beta_);
  const Tensor soft = beta_ == 1.0 ? softplus(bx) : div(softplus(bx), beta_);
  Tensor above;
  {
    NoGradGuard no_grad;
    above = raw::binary_scalar(BinaryOp::gt, detach(bx), threshold_);
  }
  return where(above, x, soft);
}

std::string Softplus::extra_repr() const {
  std::ostringstream os;
  os << "beta=" << beta_ << ", threshold=" << threshold_;
  return os.str();
}

namespace {
class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};
class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
};
}  // namespace

ModulePtr make_activation(Activation act) {
  switch (act) {
    case Activation::relu:
      return std::make_shared<ReLU>();
    case Activation::gelu_erf:
      return std::make_shared<GELU>(GeluApprox::none);
    case Activation::gelu_tanh:
      return std::make_shared<GELU>(GeluApprox::tanh);
    case Activation::silu:
      return std::make_shared<SiLU>();
    case Activation::tanh:
      return std::make_shared<Tanh>();
    case Activation::sigmoid:
      return std::make_shared<Sigmoid>();
    default:
      return std::make_shared<Identity>();
  }
}

}  // namespace diffvi::nn
