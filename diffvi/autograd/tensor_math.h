// The tensor math policy of scalar::unary_derivative_of: the one derivative formula of each unary
// op (tensor/scalar_math.h), evaluated with differentiable tensor ops. The unary ops' backward
// uses it under create_graph, so a second derivative differentiates the very expression whose
// values the kernels compute. Internal to autograd.
#pragma once

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

struct TensorMath {
  using Value = Tensor;
  using Scalar = double;
  static Tensor exp(const Tensor& x) { return diffvi::exp(x); }
  static Tensor sqrt(const Tensor& x) { return diffvi::sqrt(x); }
  static Tensor pow(const Tensor& x, double a) { return diffvi::pow(x, a); }
  static Tensor sin(const Tensor& x) { return diffvi::sin(x); }
  static Tensor cos(const Tensor& x) { return diffvi::cos(x); }
  static Tensor tanh(const Tensor& x) { return diffvi::tanh(x); }
  static Tensor erf(const Tensor& x) { return diffvi::erf(x); }
  static Tensor sigmoid(const Tensor& x) { return diffvi::sigmoid(x); }
  // The piecewise-constant factors are masks with no graph: their derivative is 0 almost
  // everywhere, so g * mask stays differentiable in g (the upstream gradient) alone.
  static Tensor constant(const Tensor& x, double c) { return full_like(x, c); }
  static Tensor sign(const Tensor& x) { return raw::unary(UnaryOp::sign, x); }
  static Tensor positive(const Tensor& x) { return raw::binary_scalar(BinaryOp::gt, x, 0.0); }
  static Tensor inside(const Tensor& x, double lo, double hi) {
    return raw::binary(BinaryOp::mul, raw::binary_scalar(BinaryOp::ge, x, lo),
                       raw::binary_scalar(BinaryOp::le, x, hi));
  }
};

}  // namespace diffvi
