// Input embeddings for diffusion models: the sinusoidal time embedding of DDPM/guided-diffusion
// and random Fourier features (Tancik et al. 2020). Both are differentiable in their input.
#pragma once

#include <cstdint>

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::nn {

// t [B] (or [B, 1], or a scalar) -> [B, dim] = [cos(t·f_0..f_{h-1}), sin(t·f_0..f_{h-1})] with
// h = dim/2 and f_k = max_period^(-k/h), as guided-diffusion's timestep_embedding (an odd dim
// gets a trailing zero column). No parameters.
class SinusoidalTimeEmbedding : public Module {
 public:
  explicit SinusoidalTimeEmbedding(int64_t dim, double max_period = 10000.0);
  Tensor forward(const Tensor& t) override;
  std::string extra_repr() const override;
  int64_t dim() const { return dim_; }

 private:
  int64_t dim_;
  double max_period_;
};

// x [..., in] -> [..., 2F] = [cos(2π x Bᵀ), sin(2π x Bᵀ)] with B [F, in] ~ N(0, scale²), drawn
// once from `gen`. B is a buffer ("weight"), or a parameter when learnable.
class FourierFeatures : public Module {
 public:
  FourierFeatures(int64_t in_features, int64_t num_frequencies, double scale = 1.0,
                  Generator& gen = default_generator(), bool learnable = false);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Tensor weight;  // [F, in]

 private:
  int64_t in_, frequencies_;
  double scale_;
  bool learnable_;
};

}  // namespace diffvi::nn
