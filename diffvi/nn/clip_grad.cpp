#include "diffvi/nn/clip_grad.h"

#include <cmath>

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  if (!(max_norm >= 0)) {
    throw ValueError("clip_grad_norm_: max_norm must be >= 0, got " + std::to_string(max_norm));
  }
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  double total = 0;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    grads.push_back(g);
    const Tensor g64 = raw::to(g, DType::f64);
    total += raw::reduce(ReduceOp::sum, raw::unary(UnaryOp::square, g64), {}, false).item();
  }
  const double norm = std::sqrt(total);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    for (const Tensor& g : grads) raw::copy_(g, raw::unary(UnaryOp::mul_scalar, g, coef));
  }
  return norm;
}

}  // namespace diffvi::nn
