// Normalising-flow guides over R^d with an N(0, I) base:
//   - MAF (Papamakarios et al. 2017): x_i = u_i exp(α_i(x_<i)) + μ_i(x_<i). Density evaluation is
//     one MADE pass per layer; a draw takes d passes (the fixed point of the recursion).
//   - IAF (Kingma et al. 2016): x_i = u_i exp(α_i(u_<i)) + μ_i(u_<i). A draw and its density take
//     one pass; the density of an arbitrary point takes d passes.
//   - RealNVP (Dinh et al. 2017): affine couplings on alternating halves with an MLP
//     conditioner; both directions take one pass.
// Conditioners output shift and log-scale, start at zero (a fresh flow is the identity), and the
// coordinate order is reversed between autoregressive layers.
#pragma once

#include <memory>
#include <vector>

#include "diffvi/vi/guides/made.h"
#include "diffvi/vi/infer/guide.h"

namespace diffvi::vi {

struct FlowOptions {
  static constexpr const char* kTypeName = "FlowOptions";
  int64_t num_layers = 2;  // autoregressive layers / coupling layers
  std::vector<int64_t> hidden{256, 256};
  Activation activation = Activation::gelu_erf;
  DType dtype = DType::f32;

  FlowOptions& set_num_layers(int64_t v) {
    num_layers = v;
    return *this;
  }
  FlowOptions& set_hidden(std::vector<int64_t> v) {
    hidden = std::move(v);
    return *this;
  }
  FlowOptions& set_dtype(DType v) {
    dtype = v;
    return *this;
  }
};

// MAF or IAF (the same layers; `inverse_autoregressive` picks which direction is cheap).
class AutoregressiveFlow : public Guide {
 public:
  AutoregressiveFlow(int64_t dim, bool inverse_autoregressive, const FlowOptions& options,
                     Generator& gen);
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  Tensor log_prob(const Tensor& z) override;
  bool is_iaf() const { return iaf_; }

 private:
  // One layer u -> x with its log|det| [n]; `inverse` maps x -> u.
  std::pair<Tensor, Tensor> layer_forward(size_t l, const Tensor& u);
  std::pair<Tensor, Tensor> layer_inverse(size_t l, const Tensor& x);
  bool iaf_;
  std::vector<std::shared_ptr<Made>> made_;
  Tensor reverse_;  // i64 index reversing the coordinates
};

class RealNvp : public Guide {
 public:
  RealNvp(int64_t dim, const FlowOptions& options, Generator& gen);
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  Tensor log_prob(const Tensor& z) override;

 private:
  std::pair<Tensor, Tensor> conditioner(size_t l, const Tensor& x_masked);
  std::vector<std::shared_ptr<nn::Module>> nets_;
  std::vector<Tensor> masks_;  // 1 = passed through unchanged
};

}  // namespace diffvi::vi
