// Normalisation layers. LayerNorm calls the fused layer-norm kernel; GroupNorm is a composite:
// a layer norm over each group's flattened [C/G, ...] block, then a per-channel affine.
#pragma once

#include <cstdint>

#include "diffvi/nn/module.h"

namespace diffvi::nn {

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learn weight (ones) and bias (zeros)
  bool bias = true;                // with elementwise_affine: also learn the bias

  LayerNormOptions& set_eps(double e) {
    eps = e;
    return *this;
  }
  LayerNormOptions& set_elementwise_affine(bool a) {
    elementwise_affine = a;
    return *this;
  }
  LayerNormOptions& set_bias(bool b) {
    bias = b;
    return *this;
  }
};

class LayerNorm : public Module {
 public:
  // Normalises over the trailing dims given by `normalized_shape` (biased variance, as PyTorch).
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});

  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // normalized_shape; undefined without affine
  Tensor bias;

 private:
  Shape normalized_shape_;
  LayerNormOptions options_;
};

struct GroupNormOptions {
  double eps = 1e-5;
  bool affine = true;  // per-channel weight (ones) and bias (zeros)

  GroupNormOptions& set_eps(double e) {
    eps = e;
    return *this;
  }
  GroupNormOptions& set_affine(bool a) {
    affine = a;
    return *this;
  }
};

class GroupNorm : public Module {
 public:
  // ValueError unless num_channels is divisible by num_groups.
  GroupNorm(int64_t num_groups, int64_t num_channels, GroupNormOptions options = {});

  // x [N, C, *]: statistics over each group of C/G channels and all trailing dims.
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // [C]; undefined without affine
  Tensor bias;

 private:
  int64_t groups_, channels_;
  GroupNormOptions options_;
};

}  // namespace diffvi::nn
