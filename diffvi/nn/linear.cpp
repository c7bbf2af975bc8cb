#include "diffvi/nn/linear.h"

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"

namespace diffvi::nn {

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options, Generator& gen)
    : Module("Linear"), in_(in_features), out_(out_features), options_(options) {
  if (in_features < 0 || out_features < 0) {
    throw ValueError("Linear: feature counts must be >= 0, got in=" + std::to_string(in_features) +
                     ", out=" + std::to_string(out_features));
  }
  const TensorOptions opts(options.dtype);
  weight = register_parameter("weight", empty({out_features, in_features}, opts));
  if (options.bias) bias = register_parameter("bias", empty({out_features}, opts));
  init::default_linear_init_(weight, bias, gen);
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias, options_.activation); }

std::string Linear::extra_repr() const {
  std::string s = "in_features=" + std::to_string(in_) + ", out_features=" + std::to_string(out_) +
                  ", bias=" + (bias.defined() ? "true" : "false");
  if (options_.activation != Activation::none) {
    s += std::string(", activation=") + activation_name(options_.activation);
  }
  return s;
}

}  // namespace diffvi::nn
