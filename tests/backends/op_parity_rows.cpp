// The rows of the op-parity table (op_parity.h): every kernel of the backend contract, through
// the tensor layer's raw ops, on the layouts the tensor layer hands over (contiguous, strided,
// transposed, broadcast by zero strides) and on shapes above the CPU backend's threading
// thresholds. Tolerances: f32 backends compute in float, the reference in double.
#include <cmath>
#include <limits>

#include "op_parity.h"

namespace parity {
namespace {

using diffvi::Activation;
using diffvi::BinaryOp;
using diffvi::Conv2dParams;
using diffvi::ReduceOp;
using diffvi::TensorOptions;
using diffvi::UnaryOp;
using In = const std::vector<Tensor>&;
using Opts = const TensorOptions&;
using Out = std::vector<Tensor>;
namespace raw = diffvi::raw;

std::string str(const Shape& s) { return diffvi::shape_str(s); }

struct UnaryCase {
  UnaryOp op;
  double lo, hi;  // input range inside the op's domain
  double a = 0, b = 0;
};

const UnaryCase kUnary[] = {
    {UnaryOp::identity, -3, 3},
    {UnaryOp::neg, -3, 3},
    {UnaryOp::exp, -5, 5},
    {UnaryOp::log, 0.1, 5},
    {UnaryOp::log1p, -0.5, 5},
    {UnaryOp::expm1, -3, 3},
    {UnaryOp::sqrt, 0.1, 5},
    {UnaryOp::rsqrt, 0.1, 5},
    {UnaryOp::abs, -3, 3},
    {UnaryOp::sign, -3, 3},
    {UnaryOp::square, -3, 3},
    {UnaryOp::reciprocal, 0.2, 3},
    {UnaryOp::sin, -4, 4},
    {UnaryOp::cos, -4, 4},
    {UnaryOp::tanh, -4, 4},
    {UnaryOp::sigmoid, -30, 30},
    {UnaryOp::softplus, -30, 30},
    {UnaryOp::relu, -3, 3},
    {UnaryOp::gelu_erf, -4, 4},
    {UnaryOp::gelu_tanh, -4, 4},
    {UnaryOp::silu, -8, 8},
    {UnaryOp::erf, -3, 3},
    {UnaryOp::pow_scalar, 0.1, 3, 2.5},
    {UnaryOp::add_scalar, -3, 3, 1.25},
    {UnaryOp::mul_scalar, -3, 3, -0.5},
    {UnaryOp::clamp, -3, 3, -1, 0.5},
    {UnaryOp::rsub_scalar, -3, 3, 2},
    {UnaryOp::rdiv_scalar, 0.2, 3, 1.5},
};
static_assert(std::size(kUnary) == diffvi::kUnaryOpCount, "every UnaryOp has a row");

// The tensor layer keeps i64 out of arithmetic, but the kernel contract defines it (exact ring
// arithmetic and comparisons), so call the kernel directly.
Tensor binary_kernel(BinaryOp op, const Tensor& x, const Tensor& y) {
  const Shape shape = diffvi::broadcast_shapes(x.shape(), y.shape(), "binary_kernel");
  Tensor out = diffvi::empty(shape, TensorOptions(x.dtype()).set_device(x.device()));
  diffvi::backend_for(x.device().type)
      .binary(op, out.buf(), raw::expand(x, shape).buf(), raw::expand(y, shape).buf());
  return out;
}

std::vector<double> integers(size_t count, int64_t seed) {
  std::vector<double> v(count);
  for (size_t k = 0; k < count; ++k) v[k] = static_cast<double>((k * 7919 + seed) % 2000001) - 1e6;
  return v;
}

void add_elementwise(std::vector<Row>& rows) {
  for (const UnaryCase& c : kUnary) {
    const std::string name = std::string("unary ") + diffvi::unary_name(c.op);
    const Fn fwd = [c](In in, Opts) { return Out{raw::unary(c.op, in[0], c.a, c.b)}; };
    rows.push_back({name, {uniform({7, 33}, c.lo, c.hi)}, fwd});
    rows.push_back({name + " transposed", {transposed({33, 40}, c.lo, c.hi)}, fwd});
    rows.push_back({name + " threaded", {uniform({260, 130}, c.lo, c.hi)}, fwd});
    if (c.op == UnaryOp::sign) continue;  // no derivative
    rows.push_back(
        {name + " backward strided",
         {strided({7, 33}, c.lo, c.hi), uniform({7, 33})},
         [c](In in, Opts) { return Out{raw::unary_backward(c.op, in[0], in[1], c.a, c.b)}; }});
  }
  for (int i = 0; i < diffvi::kBinaryOpCount; ++i) {
    const BinaryOp op = static_cast<BinaryOp>(i);
    const std::string name = std::string("binary ") + diffvi::binary_name(op);
    const Fn fn = [op](In in, Opts) { return Out{raw::binary(op, in[0], in[1])}; };
    rows.push_back({name + " broadcast", {uniform({4, 5, 9}, 0.5, 2), uniform({5, 9}, 1, 4)}, fn});
    rows.push_back(
        {name + " transposed by strided", {transposed({5, 9}, 0.5, 2), strided({5, 9}, 1, 4)}, fn});
    rows.push_back(
        {name + " threaded", {uniform({260, 130}, 0.5, 2), uniform({260, 1}, 1, 4)}, fn});
    rows.push_back({name + " ties", {uniform({6, 7}, 0.5, 2)}, [op](In in, Opts) {
                      return Out{raw::binary(op, in[0], in[0])};
                    }});
  }
  rows.push_back({"binary i64 kernel exact",
                  {index({6, 8}, integers(48, 1)), index({8}, integers(8, 5))},
                  [](In in, Opts) {
                    Out out;
                    for (BinaryOp op :
                         {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::maximum,
                          BinaryOp::minimum, BinaryOp::eq, BinaryOp::lt, BinaryOp::ge}) {
                      out.push_back(binary_kernel(op, in[0], in[1]));
                    }
                    return out;
                  },
                  0,
                  0,
                  /*f64=*/false});
  rows.push_back({"where broadcast",
                  {uniform({3, 1, 5}), uniform({4, 5}), uniform({3, 4, 1})},
                  [](In in, Opts) {
                    const Tensor cond = raw::binary_scalar(BinaryOp::gt, in[0], 0.0);
                    return Out{raw::where(cond, in[1], in[2])};
                  }});
}

void add_reductions(std::vector<Row>& rows) {
  const std::vector<std::vector<int64_t>> dim_sets = {{0}, {1}, {0, 2}, {}};
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::logsumexp}) {
    const std::string name = std::string("reduce ") + diffvi::reduce_name(op);
    for (const auto& dims : dim_sets) {
      rows.push_back(
          {name + " dims " + str(Shape(dims.begin(), dims.end())),
           {transposed({6, 8, 7})},
           [op, dims](In in, Opts) {
             std::vector<int64_t> d = dims;
             if (d.empty()) d = {0, 1, 2};
             return Out{raw::reduce(op, in[0], d, true), raw::reduce(op, in[0], d, false)};
           }});
    }
    for (int64_t dim : {0, 1}) {
      rows.push_back(
          {name + " threaded dim " + std::to_string(dim),
           {uniform({300, 200})},
           [op, dim](In in, Opts) { return Out{raw::reduce(op, in[0], {dim}, false)}; }});
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    rows.push_back(
        {name + " NaN and inf",
         {Arg{{3, 4}, 0, 0, Layout::contiguous, {1, nan, 2, 3, inf, 1, 2, 3, -inf, 0, 1, -2}}},
         [op](In in, Opts) { return Out{raw::reduce(op, in[0], {1}, false)}; }});
  }
  for (int64_t dim : {0, 1, 2}) {
    rows.push_back({"cumsum dim " + std::to_string(dim),
                    {transposed({5, 7, 6})},
                    [dim](In in, Opts) { return Out{raw::cumsum(in[0], dim)}; }});
  }
}

void add_memory(std::vector<Row>& rows) {
  rows.push_back({"copy transposed", {transposed({33, 40})}, [](In in, Opts) {
                    return Out{raw::contiguous(in[0])};
                  }});
  rows.push_back({"copy f32 <-> f64", {strided({5, 9})}, [](In in, Opts) {
                    return Out{raw::to(raw::to(in[0], diffvi::DType::f64), diffvi::DType::f32)};
                  }});
  rows.push_back({"fill and arange", {}, [](In, Opts o) {
                    return Out{diffvi::full({70, 500}, 0.25, o), diffvi::arange(-3, 40, 0.5, o)};
                  }});
  rows.push_back({"random uniform and normal",
                  {},
                  [](In, Opts o) {
                    diffvi::Generator gen(42);
                    return Out{diffvi::uniform({300, 130}, -2, 3, gen, o),
                               diffvi::normal({300, 130}, 1, 2, gen, o)};
                  },
                  1e-6,
                  1e-5});
}

}  // namespace

void add_linear_algebra(std::vector<Row>& rows);  // op_parity_rows_nn.cpp
void add_nn(std::vector<Row>& rows);

const std::vector<Row>& rows() {
  static const std::vector<Row> all = [] {
    std::vector<Row> r;
    add_memory(r);
    add_elementwise(r);
    add_reductions(r);
    add_linear_algebra(r);
    add_nn(r);
    return r;
  }();
  return all;
}

}  // namespace parity
