// MADE.
#include "diffvi/vi/guides/made.h"

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"

namespace diffvi::vi {

MaskedLinear::MaskedLinear(const Tensor& m, Activation act, bool zero_init, Generator& gen,
                           DType dtype)
    : nn::Module("MaskedLinear"), act_(act) {
  const TensorOptions opt(dtype);
  const int64_t out = m.size(0), in = m.size(1);
  weight = register_parameter("weight", empty({out, in}, opt));
  bias = register_parameter("bias", empty({out}, opt));
  mask = register_buffer("mask", diffvi::to(m, dtype));
  if (zero_init) {
    nn::init::zeros_(weight);
    nn::init::zeros_(bias);
  } else {
    nn::init::default_linear_init_(weight, bias, gen);
  }
}

Tensor MaskedLinear::forward(const Tensor& x) { return linear(x, mul(weight, mask), bias, act_); }

Made::Made(int64_t dim, const std::vector<int64_t>& hidden, Activation act, Generator& gen,
           DType dtype)
    : nn::Module("Made"), dim_(dim) {
  // Degrees: inputs 1..d; hidden units cycle through 1..d-1 (all 1 when d = 1, whose outputs
  // then depend on nothing but the bias); output i (shift and log-scale) has degree i + 1.
  std::vector<int64_t> prev(dim);
  for (int64_t i = 0; i < dim; ++i) prev[i] = i + 1;
  const int64_t cycle = std::max<int64_t>(dim - 1, 1);
  for (size_t l = 0; l < hidden.size(); ++l) {
    const int64_t h = hidden[l];
    std::vector<int64_t> deg(h);
    for (int64_t k = 0; k < h; ++k) deg[k] = k % cycle + 1;
    std::vector<double> m(h * prev.size());
    for (int64_t k = 0; k < h; ++k) {
      for (size_t j = 0; j < prev.size(); ++j) m[k * prev.size() + j] = deg[k] >= prev[j] ? 1 : 0;
    }
    Tensor mt = from_vector(m, {h, static_cast<int64_t>(prev.size())}, TensorOptions(DType::f64));
    layers_.push_back(register_module("layer" + std::to_string(l),
                                      std::make_shared<MaskedLinear>(mt, act, false, gen, dtype)));
    prev = deg;
  }
  std::vector<double> m(2 * dim * prev.size());
  for (int64_t i = 0; i < 2 * dim; ++i) {
    const int64_t out_deg = i % dim + 1;
    for (size_t j = 0; j < prev.size(); ++j) {
      // Strictly greater: output i sees only inputs < i (through the hidden degrees).
      m[i * prev.size() + j] = out_deg > prev[j] ? 1 : 0;
    }
  }
  Tensor mt =
      from_vector(m, {2 * dim, static_cast<int64_t>(prev.size())}, TensorOptions(DType::f64));
  layers_.push_back(register_module(
      "out", std::make_shared<MaskedLinear>(mt, Activation::none, true, gen, dtype)));
}

Tensor Made::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& l : layers_) h = (*l)(h);
  return h;
}

std::pair<Tensor, Tensor> Made::shift_and_log_scale(const Tensor& x) {
  Tensor out = forward(x);
  return {narrow(out, -1, 0, dim_), narrow(out, -1, dim_, dim_)};
}

}  // namespace diffvi::vi
