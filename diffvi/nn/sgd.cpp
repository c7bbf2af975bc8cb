#include "diffvi/nn/sgd.h"

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : Optimizer("SGD", std::move(groups), options.lr, options.weight_decay, {"momentum_buffer"}),
      options_(options) {
  if (options.momentum < 0 || options.weight_decay < 0) {
    throw ValueError("SGD: momentum and weight_decay must be >= 0");
  }
  if (options.nesterov && (options.momentum <= 0 || options.dampening != 0)) {
    throw ValueError("SGD: Nesterov momentum requires momentum > 0 and zero dampening");
  }
}

void SGD::step() {
  NoGradGuard no_grad;
  ++step_;
  const double mu = options_.momentum;
  for (size_t gi = 0; gi < param_groups().size(); ++gi) {
    const Group& group = param_groups()[gi];
    for (size_t k = 0; k < group.params.size(); ++k) {
      const Tensor& p = group.params[k];
      const Tensor grad = p.grad();
      if (!grad.defined()) continue;
      Tensor g = grad;
      if (group.weight_decay != 0) {
        g = raw::binary(BinaryOp::add, g, raw::binary_scalar(BinaryOp::mul, p, group.weight_decay));
      }
      if (mu != 0) {
        Tensor& buf = state(group_offset(gi) + k, 0);
        if (!buf.defined()) {
          buf = raw::clone(g);
        } else {
          raw::copy_(buf,
                     raw::binary(BinaryOp::add, raw::binary_scalar(BinaryOp::mul, buf, mu),
                                 raw::binary_scalar(BinaryOp::mul, g, 1.0 - options_.dampening)));
        }
        g = options_.nesterov
                ? raw::binary(BinaryOp::add, g, raw::binary_scalar(BinaryOp::mul, buf, mu))
                : buf;
      }
      raw::copy_(p, raw::binary(BinaryOp::sub, p, raw::binary_scalar(BinaryOp::mul, g, group.lr)));
    }
  }
}

}  // namespace diffvi::nn
