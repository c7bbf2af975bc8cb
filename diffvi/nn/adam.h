// Adam and AdamW. Both step every parameter group with ONE call of the fused AdamW kernel
// (raw::adamw_), which walks all of the group's parameters in one parallel pass:
//   m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  p -= lr·(m/(1-β1ᵗ)) / (sqrt(v/(1-β2ᵗ)) + ε)
// AdamW decays decoupled (p -= lr·wd·p first, as torch.optim.AdamW); Adam adds wd·p to the
// gradient (L2, as torch.optim.Adam). State slots: "exp_avg", "exp_avg_sq". The bias-correction
// step t is the optimizer's global step count.
#pragma once

#include "diffvi/nn/optimizer.h"

namespace diffvi::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;

  explicit AdamOptions(double learning_rate = 1e-3) : lr(learning_rate) {}
  AdamOptions& set_lr(double v) {
    lr = v;
    return *this;
  }
  AdamOptions& set_betas(double b1, double b2) {
    beta1 = b1;
    beta2 = b2;
    return *this;
  }
  AdamOptions& set_eps(double v) {
    eps = v;
    return *this;
  }
  AdamOptions& set_weight_decay(double v) {
    weight_decay = v;
    return *this;
  }
};

class Adam : public Optimizer {
 public:
  // ValueError for betas outside [0, 1) or negative lr/eps/weight_decay.
  Adam(std::vector<ParamGroup> groups, const AdamOptions& options);
  Adam(std::vector<Tensor> params, const AdamOptions& options)
      : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

  void step() override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const char* name, std::vector<ParamGroup> groups, const AdamOptions& options,
       bool decoupled);

 private:
  AdamOptions options_;
  bool decoupled_;
};

// AdamW: options default to weight_decay = 1e-2, as PyTorch. Pair with split_decay_groups() to
// exempt biases and norm parameters from decay.
struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double learning_rate = 1e-3) : AdamOptions(learning_rate) {
    weight_decay = 1e-2;
  }
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamOptions& options = AdamWOptions())
      : Adam("AdamW", std::move(groups), options, true) {}
  AdamW(std::vector<Tensor> params, const AdamOptions& options = AdamWOptions())
      : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}
};

}  // namespace diffvi::nn
