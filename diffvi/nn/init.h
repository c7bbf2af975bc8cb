// Parameter initialisers, as torch.nn.init: each fills a tensor in place (no autograd history)
// from an explicit Generator, so an initialisation is reproducible bit for bit. Fans follow
// PyTorch: for a weight [out, in, k...], fan_in = in·prod(k), fan_out = out·prod(k).
#pragma once

#include <cstdint>
#include <utility>

#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::nn::init {

enum class FanMode { fan_in, fan_out };
enum class Nonlinearity { linear, relu, leaky_relu, tanh, sigmoid };

// (fan_in, fan_out) of a tensor of rank >= 2 (ValueError otherwise); rank 1 gives (n, n).
std::pair<int64_t, int64_t> fans(const Tensor& t);
// The recommended gain of torch.nn.init.calculate_gain (`param` is leaky_relu's slope).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

void zeros_(const Tensor& t);
void ones_(const Tensor& t);
void constant_(const Tensor& t, double value);
// U(low, high).
void uniform_(const Tensor& t, double low, double high, Generator& gen);
// N(mean, std²).
void normal_(const Tensor& t, double mean, double std, Generator& gen);
// N(mean, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_), drawn by
// the inverse CDF so every draw costs one uniform.
void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& gen);
// Kaiming/He uniform: U(-bound, bound), bound = gain·sqrt(3 / fan) with gain for leaky_relu(a).
// a = sqrt(5) gives PyTorch's default Linear/Conv weight init, bound = 1/sqrt(fan_in).
void kaiming_uniform_(const Tensor& t, double a, Generator& gen, FanMode mode = FanMode::fan_in,
                      Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
// Kaiming/He normal: N(0, (gain / sqrt(fan))²).
void kaiming_normal_(const Tensor& t, double a, Generator& gen, FanMode mode = FanMode::fan_in,
                     Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
// Xavier/Glorot uniform: U(-b, b), b = gain·sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(const Tensor& t, Generator& gen, double gain = 1.0);
// Xavier/Glorot normal: N(0, gain²·2 / (fan_in + fan_out)).
void xavier_normal_(const Tensor& t, Generator& gen, double gain = 1.0);

// PyTorch's default init of a Linear/Conv layer: kaiming_uniform_(weight, a = sqrt(5)), i.e.
// U(±1/sqrt(fan_in)), and the bias (if defined) U(±1/sqrt(fan_in)).
void default_linear_init_(const Tensor& weight, const Tensor& bias, Generator& gen);

}  // namespace diffvi::nn::init
