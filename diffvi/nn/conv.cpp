#include "diffvi/nn/conv.h"

#include <string>

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"

namespace diffvi::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               Conv2dOptions options, Generator& gen)
    : Module("Conv2d"),
      in_(in_channels),
      out_(out_channels),
      kernel_(kernel_size),
      options_(options) {
  const std::string config =
      "in=" + std::to_string(in_channels) + ", out=" + std::to_string(out_channels) +
      ", kernel=" + std::to_string(kernel_size) + ", stride=" + std::to_string(options.stride) +
      ", padding=" + std::to_string(options.padding) + ", groups=" + std::to_string(options.groups);
  if (in_channels <= 0 || out_channels <= 0 || kernel_size <= 0 || options.stride <= 0 ||
      options.groups <= 0 || options.padding < 0) {
    throw ValueError("Conv2d: sizes, stride and groups must be > 0 and padding >= 0 (" + config +
                     ")");
  }
  if (in_channels % options.groups != 0 || out_channels % options.groups != 0) {
    throw ValueError("Conv2d: channels must be divisible by groups (" + config + ")");
  }
  const TensorOptions opts(options.dtype);
  weight = register_parameter(
      "weight",
      empty({out_channels, in_channels / options.groups, kernel_size, kernel_size}, opts));
  if (options.bias) bias = register_parameter("bias", empty({out_channels}, opts));
  init::default_linear_init_(weight, bias, gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  return conv2d(x, weight, bias, options_.stride, options_.padding, options_.groups);
}

std::string Conv2d::extra_repr() const {
  std::string s = std::to_string(in_) + ", " + std::to_string(out_) +
                  ", kernel_size=" + std::to_string(kernel_) +
                  ", stride=" + std::to_string(options_.stride) +
                  ", padding=" + std::to_string(options_.padding);
  if (options_.groups != 1) s += ", groups=" + std::to_string(options_.groups);
  return s + ", bias=" + (bias.defined() ? "true" : "false");
}

AvgPool2d::AvgPool2d(int64_t kernel_size) : Module("AvgPool2d"), kernel_(kernel_size) {
  if (kernel_size < 1) {
    throw ValueError("AvgPool2d: kernel_size must be >= 1, got " + std::to_string(kernel_size));
  }
}

Tensor AvgPool2d::forward(const Tensor& x) { return avg_pool2d(x, kernel_); }

std::string AvgPool2d::extra_repr() const { return "kernel_size=" + std::to_string(kernel_); }

UpsampleNearest2d::UpsampleNearest2d(int64_t factor)
    : Module("UpsampleNearest2d"), factor_(factor) {
  if (factor < 1) {
    throw ValueError("UpsampleNearest2d: factor must be >= 1, got " + std::to_string(factor));
  }
}

Tensor UpsampleNearest2d::forward(const Tensor& x) { return upsample_nearest2d(x, factor_); }

std::string UpsampleNearest2d::extra_repr() const {
  return "scale_factor=" + std::to_string(factor_);
}

}  // namespace diffvi::nn
