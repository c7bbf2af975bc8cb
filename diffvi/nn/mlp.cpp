#include "diffvi/nn/mlp.h"

#include "diffvi/autograd/ops.h"
#include "diffvi/nn/activation.h"

namespace diffvi::nn {

MLPBlock::MLPBlock(int64_t in, int64_t out, Activation act_kind, NormKind norm_kind,
                   double dropout_p, bool residual, bool bias, Generator& gen)
    : Module("MLPBlock"), residual_(residual && in == out) {
  const bool fuse = norm_kind == NormKind::none;
  linear = register_module(
      "linear",
      std::make_shared<Linear>(
          in, out,
          LinearOptions().set_bias(bias).set_activation(fuse ? act_kind : Activation::none), gen));
  if (norm_kind == NormKind::layer_norm) {
    norm = register_module("norm", std::make_shared<LayerNorm>(Shape{out}));
  }
  if (!fuse && act_kind != Activation::none)
    act = register_module("act", make_activation(act_kind));
  if (dropout_p > 0)
    dropout = register_module("dropout", std::make_shared<Dropout>(dropout_p, gen));
}

Tensor MLPBlock::forward(const Tensor& x) {
  Tensor h = (*linear)(x);
  if (norm) h = (*norm)(h);
  if (act) h = (*act)(h);
  if (dropout) h = (*dropout)(h);
  return residual_ ? add(x, h) : h;
}

std::string MLPBlock::extra_repr() const { return residual_ ? "residual=true" : ""; }

MLP::MLP(const MLPOptions& options, Generator& gen) : Module("MLP"), options_(options) {
  const std::vector<int64_t>& w = options.widths;
  if (w.size() < 2) throw ValueError("MLP: need at least two widths {in, out}");
  for (int64_t width : w) {
    if (width <= 0) throw ValueError("MLP: widths must be positive, got " + std::to_string(width));
  }
  if (!(options.dropout >= 0 && options.dropout < 1)) {
    throw ValueError("MLP: dropout must be in [0, 1), got " + std::to_string(options.dropout));
  }
  layers = register_module("layers", std::make_shared<Sequential>());
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    const bool hidden = i + 2 < w.size() || options.activate_output;
    layers->push_back(std::make_shared<MLPBlock>(
        w[i], w[i + 1], hidden ? options.activation : Activation::none,
        hidden ? options.norm : NormKind::none, hidden ? options.dropout : 0.0,
        hidden && options.residual, options.bias, gen));
  }
}

Tensor MLP::forward(const Tensor& x) { return (*layers)(x); }

}  // namespace diffvi::nn
