// CUDA backend parity with the reference backend: unary maps and their derivatives, binary ops
// (f32 and i64, broadcast and strided), where, reductions and cumsum.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "cuda_test_util.h"

namespace {

using cudatest::CudaTest;
using cudatest::MatchesReference;
using diffvi::BinaryOp;
using diffvi::DType;
using diffvi::ReduceOp;
using diffvi::Tensor;
using diffvi::UnaryOp;
namespace raw = diffvi::raw;

struct UnaryCase {
  UnaryOp op;
  double lo, hi;  // input range inside the op's domain
  double a = 0, b = 0;
};

// Every UnaryOp. f32 math on the GPU vs double math in the reference: transcendental results
// differ in the last f32 bits, hence the 1e-5 relative tolerance.
const std::vector<UnaryCase>& UnaryCases() {
  static const std::vector<UnaryCase> cases = {
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
  return cases;
}

TEST_F(CudaTest, UnaryForwardAndBackwardOnStridedInputs) {
  for (const UnaryCase& c : UnaryCases()) {
    SCOPED_TRACE(diffvi::unary_name(c.op));
    const Tensor x = testutil::Uniform({7, 33}, 10, DType::f32, c.lo, c.hi);
    const Tensor dy = testutil::Uniform({33, 7}, 11);
    // Contiguous, and a transposed view (the strided-indexer path).
    EXPECT_TRUE(MatchesReference(
        [&](const std::vector<Tensor>& in) { return raw::unary(c.op, in[0], c.a, c.b); }, {x}));
    EXPECT_TRUE(MatchesReference(
        [&](const std::vector<Tensor>& in) {
          return raw::unary(c.op, raw::transpose(in[0], 0, 1), c.a, c.b);
        },
        {x}));
    EXPECT_TRUE(MatchesReference(
        [&](const std::vector<Tensor>& in) {
          return raw::unary_backward(c.op, raw::transpose(in[0], 0, 1), in[1], c.a, c.b);
        },
        {x, dy}, 1e-5, 1e-5));
  }
}

TEST_F(CudaTest, BinaryF32WithBroadcasting) {
  const std::vector<BinaryOp> ops = {
      BinaryOp::add,     BinaryOp::sub,     BinaryOp::mul, BinaryOp::div, BinaryOp::pow,
      BinaryOp::maximum, BinaryOp::minimum, BinaryOp::eq,  BinaryOp::ne,  BinaryOp::lt,
      BinaryOp::le,      BinaryOp::gt,      BinaryOp::ge};
  const Tensor x = testutil::Uniform({4, 1, 9}, 20, DType::f32, 1, 4);
  const Tensor y = testutil::Uniform({5, 9}, 21, DType::f32, 1, 4);
  for (BinaryOp op : ops) {
    SCOPED_TRACE(diffvi::binary_name(op));
    EXPECT_TRUE(MatchesReference(
        [op](const std::vector<Tensor>& in) { return raw::binary(op, in[0], in[1]); }, {x, y}));
    EXPECT_TRUE(MatchesReference(
        [op](const std::vector<Tensor>& in) {
          return raw::binary(op, raw::transpose(in[1], 0, 1), raw::slice(in[0], 2, 0, 5));
        },
        {x, y}));
    // x against itself: every comparison is a tie.
    EXPECT_TRUE(MatchesReference(
        [op](const std::vector<Tensor>& in) { return raw::binary(op, in[0], in[0]); }, {x}));
  }
}

// The tensor layer keeps i64 out of arithmetic, but the kernel contract defines it (exact ring
// arithmetic and comparisons), so call the kernel directly.
Tensor BinaryKernel(BinaryOp op, const Tensor& x, const Tensor& y) {
  const diffvi::Shape shape = diffvi::broadcast_shapes(x.shape(), y.shape(), "BinaryKernel");
  Tensor out = diffvi::empty(shape, diffvi::TensorOptions(x.dtype()).set_device(x.device()));
  diffvi::backend_for(x.device().type)
      .binary(op, out.buf(), raw::expand(x, shape).buf(), raw::expand(y, shape).buf());
  return out;
}

TEST_F(CudaTest, BinaryI64IsExact) {
  const Tensor x = raw::to(testutil::Uniform({6, 8}, 22, DType::f32, -1e6, 1e6), DType::i64);
  const Tensor y = raw::to(testutil::Uniform({8}, 23, DType::f32, -1e6, 1e6), DType::i64);
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::maximum,
                      BinaryOp::minimum, BinaryOp::eq, BinaryOp::lt, BinaryOp::ge}) {
    SCOPED_TRACE(diffvi::binary_name(op));
    EXPECT_TRUE(MatchesReference(
        [op](const std::vector<Tensor>& in) { return BinaryKernel(op, in[0], in[1]); }, {x, y}, 0,
        0));
  }
  const Tensor xd = cudatest::to_cuda(x);
  EXPECT_THROW(BinaryKernel(BinaryOp::div, xd, xd), diffvi::DTypeError);
}

TEST_F(CudaTest, WhereBroadcastsAllThree) {
  const Tensor cond = raw::binary_scalar(BinaryOp::gt, testutil::Uniform({3, 1, 5}, 30), 0.0);
  const Tensor x = testutil::Uniform({4, 5}, 31);
  const Tensor y = testutil::Uniform({3, 4, 1}, 32);
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) { return raw::where(in[0], in[1], in[2]); }, {cond, x, y},
      0, 0));
}

TEST_F(CudaTest, ReductionsOverEveryAxisSet) {
  const Tensor x = testutil::Uniform({6, 70, 5}, 40, DType::f32, -3, 3);
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 2}, {1, 2}};
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::logsumexp}) {
    for (const auto& dims : dim_sets) {
      for (bool keepdim : {false, true}) {
        EXPECT_TRUE(MatchesReference(
            [&](const std::vector<Tensor>& in) {
              return raw::reduce(op, raw::transpose(in[0], 0, 2), dims, keepdim);
            },
            {x}, 1e-5, 1e-5))
            << "op " << static_cast<int>(op) << " dims " << dims.size();
      }
    }
  }
  // A long reduction exercises the block reduction with many strides per thread.
  const Tensor big = testutil::Uniform({3, 20000}, 41);
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) { return raw::reduce(ReduceOp::sum, in[0], {1}, false); },
      {big}, 1e-5, 1e-4));
}

TEST_F(CudaTest, ReductionsPropagateNaNAndInf) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Tensor x =
      diffvi::from_vector(std::vector<double>{1, nan, 3, 4, inf, 6, -inf, -inf, 2}, {3, 3});
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min, ReduceOp::logsumexp}) {
    EXPECT_TRUE(MatchesReference(
        [op](const std::vector<Tensor>& in) { return raw::reduce(op, in[0], {1}, false); }, {x}));
  }
}

TEST_F(CudaTest, CumsumAlongEachAxis) {
  const Tensor x = testutil::Uniform({5, 6, 7}, 50);
  for (int64_t dim = 0; dim < 3; ++dim) {
    EXPECT_TRUE(MatchesReference(
        [dim](const std::vector<Tensor>& in) {
          return raw::cumsum(raw::permute(in[0], {1, 2, 0}), dim);
        },
        {x}));
  }
}

}  // namespace
