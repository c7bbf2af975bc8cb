#include "diffvi/nn/adam.h"

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& options)
    : Adam("Adam", std::move(groups), options, false) {}

Adam::Adam(const char* name, std::vector<ParamGroup> groups, const AdamOptions& options,
           bool decoupled)
    : Optimizer(name, std::move(groups), options.lr, options.weight_decay,
                {"exp_avg", "exp_avg_sq"}),
      options_(options),
      decoupled_(decoupled) {
  if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1)) {
    throw ValueError(std::string(name) + ": betas must be in [0, 1)");
  }
  if (!(options.eps >= 0 && options.weight_decay >= 0)) {
    throw ValueError(std::string(name) + ": eps and weight_decay must be >= 0");
  }
}

void Adam::step() {
  NoGradGuard no_grad;
  ++step_;
  for (size_t gi = 0; gi < param_groups().size(); ++gi) {
    const Group& group = param_groups()[gi];
    std::vector<Tensor> params, grads, exp_avg, exp_avg_sq;
    for (size_t k = 0; k < group.params.size(); ++k) {
      const Tensor& p = group.params[k];
      Tensor g = p.grad();
      if (!g.defined()) continue;
      if (!decoupled_ && group.weight_decay != 0) {
        g = raw::binary(BinaryOp::add, g, raw::binary_scalar(BinaryOp::mul, p, group.weight_decay));
      }
      params.push_back(p);
      grads.push_back(g);
      exp_avg.push_back(state_or_zeros(group_offset(gi) + k, 0));
      exp_avg_sq.push_back(state_or_zeros(group_offset(gi) + k, 1));
    }
    if (params.empty()) continue;
    AdamWConfig config;
    config.lr = group.lr;
    config.beta1 = options_.beta1;
    config.beta2 = options_.beta2;
    config.eps = options_.eps;
    config.weight_decay = decoupled_ ? group.weight_decay : 0.0;
    config.step = step_;
    raw::adamw_(params, grads, exp_avg, exp_avg_sq, config);
  }
}

}  // namespace diffvi::nn
