// Conv2d: a 2-D convolution layer over NCHW images (oneDNN forward, backward-data and
// backward-weights primitives on the CPU backend). Weight [out, in/groups, kh, kw] and bias
// [out], PyTorch's layout and default initialisation, so a torch.nn.Conv2d state_dict loads as is.
#pragma once

#include <cstdint>

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::nn {

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;  // zeros on every side
  int64_t groups = 1;
  bool bias = true;
  DType dtype = DType::f32;

  Conv2dOptions& set_stride(int64_t s) {
    stride = s;
    return *this;
  }
  Conv2dOptions& set_padding(int64_t p) {
    padding = p;
    return *this;
  }
  Conv2dOptions& set_groups(int64_t g) {
    groups = g;
    return *this;
  }
  Conv2dOptions& set_bias(bool b) {
    bias = b;
    return *this;
  }
  Conv2dOptions& set_dtype(DType d) {
    dtype = d;
    return *this;
  }
};

class Conv2d : public Module {
 public:
  // A square kernel_size × kernel_size kernel. Weight and bias from `gen` as PyTorch does:
  // kaiming_uniform(a = sqrt(5)), i.e. U(±1/sqrt(fan_in)) with fan_in = in/groups·k². ValueError
  // for non-positive sizes, stride or groups, negative padding, or channels not divisible by
  // groups.
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, Conv2dOptions options = {},
         Generator& gen = default_generator());

  // x [N, in, H, W] -> [N, out, OH, OW]; ShapeError (naming the module path) otherwise.
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  int64_t kernel_size() const { return kernel_; }
  const Conv2dOptions& options() const { return options_; }

  Tensor weight;  // [out, in/groups, k, k]
  Tensor bias;    // [out], undefined without bias

 private:
  int64_t in_, out_, kernel_;
  Conv2dOptions options_;
};

// Average pooling over non-overlapping k×k windows (avg_pool2d).
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  int64_t kernel_;
};

// Nearest-neighbour upsampling by an integer factor (upsample_nearest2d).
class UpsampleNearest2d : public Module {
 public:
  explicit UpsampleNearest2d(int64_t factor);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  int64_t factor_;
};

}  // namespace diffvi::nn
