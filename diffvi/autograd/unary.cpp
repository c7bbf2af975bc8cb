// Unary ops: forward through one kernel, backward through the fused unary_backward kernel
// (dx = dy * f'(x)). Under create_graph the same derivative formula (scalar::unary_derivative_of)
// is evaluated with differentiable ops instead (TensorMath), so higher derivatives exist and agree
// with the kernels by construction.
#include <limits>
#include <string>

#include "diffvi/autograd/ops.h"
#include "diffvi/autograd/tensor_math.h"

namespace diffvi {
namespace {

Tensor unary_op(UnaryOp op, const Tensor& x, double a = 0, double b = 0) {
  Tensor out = raw::unary(op, x, a, b);
  if (!needs_grad({&x})) return record(unary_name(op), out, {}, nullptr);
  return record(unary_name(op), out, {x},
                [op, a, b](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor& x = in[0];
                  if (grad_enabled()) {
                    return {mul(g, scalar::unary_derivative_of<TensorMath>(op, x, a, b))};
                  }
                  return {raw::unary_backward(op, x, g, a, b)};
                });
}

}  // namespace

Tensor neg(const Tensor& x) { return unary_op(UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary_op(UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary_op(UnaryOp::log, x); }
Tensor log1p(const Tensor& x) { return unary_op(UnaryOp::log1p, x); }
Tensor expm1(const Tensor& x) { return unary_op(UnaryOp::expm1, x); }
Tensor sqrt(const Tensor& x) { return unary_op(UnaryOp::sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary_op(UnaryOp::rsqrt, x); }
Tensor square(const Tensor& x) { return unary_op(UnaryOp::square, x); }
Tensor reciprocal(const Tensor& x) { return unary_op(UnaryOp::reciprocal, x); }
Tensor abs(const Tensor& x) { return unary_op(UnaryOp::abs, x); }
Tensor sign(const Tensor& x) { return unary_op(UnaryOp::sign, x); }
Tensor sin(const Tensor& x) { return unary_op(UnaryOp::sin, x); }
Tensor cos(const Tensor& x) { return unary_op(UnaryOp::cos, x); }
Tensor tanh(const Tensor& x) { return unary_op(UnaryOp::tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op(UnaryOp::sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary_op(UnaryOp::softplus, x); }
Tensor relu(const Tensor& x) { return unary_op(UnaryOp::relu, x); }
Tensor gelu(const Tensor& x, GeluApprox approx) {
  return unary_op(approx == GeluApprox::tanh ? UnaryOp::gelu_tanh : UnaryOp::gelu_erf, x);
}
Tensor silu(const Tensor& x) { return unary_op(UnaryOp::silu, x); }
Tensor erf(const Tensor& x) { return unary_op(UnaryOp::erf, x); }
Tensor pow(const Tensor& x, double exponent) {
  if (exponent == 1.0) return unary_op(UnaryOp::identity, x);
  if (exponent == 2.0) return square(x);
  return unary_op(UnaryOp::pow_scalar, x, exponent);
}
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  if (lo > hi) {
    throw ValueError("clamp: min " + std::to_string(lo) + " > max " + std::to_string(hi));
  }
  return unary_op(UnaryOp::clamp, x, lo, hi);
}

Tensor activation(const Tensor& x, Activation act) {
  if (act == Activation::none) return x;
  return unary_op(scalar::activation_op(act), x);
}

// Scalar arithmetic lives here too: it is unary in the tensor.
Tensor add(const Tensor& x, double y) { return unary_op(UnaryOp::add_scalar, x, y); }
Tensor sub(const Tensor& x, double y) { return unary_op(UnaryOp::add_scalar, x, -y); }
Tensor mul(const Tensor& x, double y) { return unary_op(UnaryOp::mul_scalar, x, y); }
Tensor div(const Tensor& x, double y) { return unary_op(UnaryOp::mul_scalar, x, 1.0 / y); }
Tensor rsub(double x, const Tensor& y) { return unary_op(UnaryOp::rsub_scalar, y, x); }
Tensor rdiv(double x, const Tensor& y) { return unary_op(UnaryOp::rdiv_scalar, y, x); }

Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& x, double y) { return add(x, y); }
Tensor operator-(const Tensor& x, double y) { return sub(x, y); }
Tensor operator*(const Tensor& x, double y) { return mul(x, y); }
Tensor operator/(const Tensor& x, double y) { return div(x, y); }
Tensor operator+(double x, const Tensor& y) { return add(y, x); }
Tensor operator-(double x, const Tensor& y) { return rsub(x, y); }
Tensor operator*(double x, const Tensor& y) { return mul(y, x); }
Tensor operator/(double x, const Tensor& y) { return rdiv(x, y); }

}  // namespace diffvi
