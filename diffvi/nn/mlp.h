// MLP builder: widths {in, hidden..., out} become a Sequential of blocks
//   h -> linear -> [layer norm] -> activation -> [dropout]  (+ h when residual and widths match)
// The last block has no norm/activation/dropout unless activate_output. Without a norm the
// activation is fused into the Linear kernel. Parameter names: "layers.<i>.linear.weight", ...
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "diffvi/nn/dropout.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/norm.h"
#include "diffvi/nn/sequential.h"

namespace diffvi::nn {

enum class NormKind { none, layer_norm };

struct MLPOptions {
  std::vector<int64_t> widths;               // {in, hidden..., out}; at least two entries
  Activation activation = Activation::relu;  // of the hidden blocks
  NormKind norm = NormKind::none;            // after each hidden linear, before the activation
  double dropout = 0.0;                      // after each hidden activation
  bool residual = false;                     // h + block(h) where in == out width
  bool bias = true;
  bool activate_output = false;  // treat the last block like a hidden one

  MLPOptions() = default;
  explicit MLPOptions(std::vector<int64_t> w) : widths(std::move(w)) {}
  MLPOptions& set_widths(std::vector<int64_t> w) {
    widths = std::move(w);
    return *this;
  }
  MLPOptions& set_activation(Activation a) {
    activation = a;
    return *this;
  }
  MLPOptions& set_norm(NormKind n) {
    norm = n;
    return *this;
  }
  MLPOptions& set_dropout(double p) {
    dropout = p;
    return *this;
  }
  MLPOptions& set_residual(bool r) {
    residual = r;
    return *this;
  }
  MLPOptions& set_bias(bool b) {
    bias = b;
    return *this;
  }
  MLPOptions& set_activate_output(bool a) {
    activate_output = a;
    return *this;
  }
};

// One block of an MLP (see the file comment).
class MLPBlock : public Module {
 public:
  MLPBlock(int64_t in, int64_t out, Activation act, NormKind norm, double dropout, bool residual,
           bool bias, Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  std::shared_ptr<Linear> linear;
  std::shared_ptr<LayerNorm> norm;   // null without a norm
  ModulePtr act;                     // null when fused into linear or none
  std::shared_ptr<Dropout> dropout;  // null without dropout

 private:
  bool residual_;
};

class MLP : public Module {
 public:
  // Parameters and dropout masks draw from `gen` (which must outlive the module when dropout > 0).
  // ValueError for fewer than two widths, a non-positive width or dropout outside [0, 1).
  explicit MLP(const MLPOptions& options, Generator& gen = default_generator());

  Tensor forward(const Tensor& x) override;
  const MLPOptions& options() const { return options_; }

  std::shared_ptr<Sequential> layers;

 private:
  MLPOptions options_;
};

}  // namespace diffvi::nn
