#include "diffvi/nn/dropout.h"

#include <sstream>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::nn {

Dropout::Dropout(double p, Generator& gen) : Module("Dropout"), p_(p), gen_(&gen) {
  if (!(p >= 0.0 && p < 1.0)) {
    throw ValueError("Dropout: p must be in [0, 1), got " + std::to_string(p));
  }
}

Tensor Dropout::forward(const Tensor& x) {
  if (!is_training() || p_ == 0.0) return x;
  Tensor mask;
  {
    // keep = (u >= p) / (1 - p): a constant of the graph.
    NoGradGuard no_grad;
    Tensor u = rand(x.shape(), *gen_, TensorOptions(x.dtype()).set_device(x.device()));
    mask = raw::binary_scalar(BinaryOp::mul, raw::binary_scalar(BinaryOp::ge, u, p_),
                              1.0 / (1.0 - p_));
  }
  return mul(x, mask);
}

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p_;
  return os.str();
}

}  // namespace diffvi::nn
