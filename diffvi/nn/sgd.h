// SGD with momentum, dampening, Nesterov and (coupled, L2) weight decay — torch.optim.SGD's
// update: g = grad + wd·p; b = g on the first step, else μ·b + (1-τ)·g; g = g + μ·b (Nesterov)
// or b; p -= lr·g.
#pragma once

#include "diffvi/nn/optimizer.h"

namespace diffvi::nn {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;

  explicit SGDOptions(double learning_rate = 1e-2) : lr(learning_rate) {}
  SGDOptions& set_lr(double v) {
    lr = v;
    return *this;
  }
  SGDOptions& set_momentum(double v) {
    momentum = v;
    return *this;
  }
  SGDOptions& set_dampening(double v) {
    dampening = v;
    return *this;
  }
  SGDOptions& set_weight_decay(double v) {
    weight_decay = v;
    return *this;
  }
  SGDOptions& set_nesterov(bool v) {
    nesterov = v;
    return *this;
  }
};

class SGD : public Optimizer {
 public:
  // ValueError for Nesterov without momentum or with dampening, or negative hyper-parameters.
  SGD(std::vector<ParamGroup> groups, const SGDOptions& options);
  SGD(std::vector<Tensor> params, const SGDOptions& options)
      : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

  void step() override;
  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
};

}  // namespace diffvi::nn
