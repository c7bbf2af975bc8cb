#include "diffvi/nn/norm.h"

#include <sstream>

#include "diffvi/autograd/ops.h"

namespace diffvi::nn {

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : Module("LayerNorm"), normalized_shape_(std::move(normalized_shape)), options_(options) {
  if (options.elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_));
    if (options.bias) bias = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  return layer_norm(x, normalized_shape_, weight, bias, options_.eps);
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << shape_str(normalized_shape_) << ", eps=" << options_.eps
     << ", elementwise_affine=" << (options_.elementwise_affine ? "true" : "false");
  return os.str();
}

GroupNorm::GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options)
    : Module("GroupNorm"), groups_(num_groups), channels_(num_channels), options_(options) {
  if (num_groups <= 0 || num_channels % num_groups != 0) {
    throw ValueError("GroupNorm: num_channels (" + std::to_string(num_channels) +
                     ") must be divisible by num_groups (" + std::to_string(num_groups) + ")");
  }
  if (options.affine) {
    weight = register_parameter("weight", ones({num_channels}));
    bias = register_parameter("bias", zeros({num_channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  if (x.dim() < 2 || x.size(1) != channels_) {
    throw ShapeError("group_norm: input " + describe(x) + " must be [N, " +
                     std::to_string(channels_) + ", *]");
  }
  const int64_t n = x.size(0);
  Tensor y = layer_norm(reshape(x, {n, groups_, -1}),
                        Shape{x.numel() / std::max<int64_t>(n, 1) / groups_}, {}, {}, options_.eps);
  y = reshape(y, x.shape());
  if (!options_.affine) return y;
  Shape affine_shape(x.dim(), 1);
  affine_shape[1] = channels_;
  return add(mul(y, reshape(weight, affine_shape)), reshape(bias, affine_shape));
}

std::string GroupNorm::extra_repr() const {
  std::ostringstream os;
  os << groups_ << ", " << channels_ << ", eps=" << options_.eps
     << ", affine=" << (options_.affine ? "true" : "false");
  return os.str();
}

}  // namespace diffvi::nn
