// Every kernel of the CPU backend on shapes above its parallel threshold, so its threaded path
// runs: forward and backward against the reference at 1 and 2 threads (BackendsMatchReference and
// BackwardBackendsMatchReference walk testutil::ParityThreadCounts()), with and without each
// optional argument (bias, affine parameters, which gradients are asked for). The sanitizer suite
// runs these too, so an out-of-bounds write on a threaded path fails there.
#include <gtest/gtest.h>

#include "diffvi/nn/adam.h"
#include "diffvi/nn/norm.h"
#include "diffvi/nn/unet.h"
#include "test_util.h"

using diffvi::Activation;
using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::BackendsMatchReference;
using testutil::BackwardBackendsMatchReference;
using In = std::vector<Tensor>;

namespace {

// 40,960 elements: above kParallelThreshold (32,768) and far above the heavy ops' 4,096.
const Shape kBig = {256, 160};

TEST(Threaded, EveryUnaryOpForwardAndBackward) {
  for (int i = 0; i < diffvi::kUnaryOpCount; ++i) {
    const auto op = static_cast<diffvi::UnaryOp>(i);
    // Positive inputs keep log/sqrt/rsqrt finite; the kinks of relu/abs/clamp fall inside.
    const double lo = (op == diffvi::UnaryOp::log || op == diffvi::UnaryOp::sqrt ||
                       op == diffvi::UnaryOp::rsqrt || op == diffvi::UnaryOp::pow_scalar)
                          ? 0.1
                          : -2.0;
    const double a = op == diffvi::UnaryOp::clamp ? -0.5 : 1.5, b = 0.7;
    for (DType dtype : {DType::f32, DType::f64}) {
      const Tensor x = testutil::Uniform(kBig, 10 + i, dtype, lo, 2.0);
      for (const Tensor& in : {x, testutil::StridedCopy(x)}) {
        EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::raw::unary(op, in, a, b); }))
            << diffvi::unary_name(op) << " " << diffvi::dtype_name(dtype);
      }
      const Tensor dy = testutil::Uniform(kBig, 99, dtype);
      EXPECT_TRUE(BackendsMatchReference([&] {
        return diffvi::raw::unary_backward(op, x, dy, a, b);
      })) << diffvi::unary_name(op)
          << " backward " << diffvi::dtype_name(dtype);
    }
  }
}

TEST(Threaded, EveryBinaryOpWithBroadcastAndWhere) {
  const Tensor x = testutil::Uniform(kBig, 1, DType::f32, 0.1, 2);
  const Tensor row = testutil::Uniform({1, kBig[1]}, 2, DType::f32, 0.1, 2);
  const Tensor y = testutil::Uniform(kBig, 3, DType::f32, 0.1, 2);
  for (int i = 0; i < diffvi::kBinaryOpCount; ++i) {
    const auto op = static_cast<diffvi::BinaryOp>(i);
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::raw::binary(op, x, y); }))
        << diffvi::binary_name(op);
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::raw::binary(op, x, row); }))
        << diffvi::binary_name(op) << " broadcast";
  }
  const Tensor cond = diffvi::raw::binary(diffvi::BinaryOp::gt, x, y);
  EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::raw::where(cond, x, row); }));
  EXPECT_TRUE(BackwardBackendsMatchReference(
      [](const In& in) { return diffvi::div(diffvi::mul(in[0], in[1]), in[2]); }, {x, row, y}));
}

TEST(Threaded, CopyFillRandomArange) {
  const Tensor x = testutil::Uniform({320, 320}, 4, DType::f32);
  EXPECT_TRUE(
      BackendsMatchReference([&] { return diffvi::contiguous(diffvi::transpose(x, 0, 1)); }));
  EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::raw::to(x, DType::f64); }));
  EXPECT_TRUE(BackendsMatchReference([] { return diffvi::full({300, 300}, 1.25); }));
  EXPECT_TRUE(BackendsMatchReference([] { return testutil::Uniform({300, 300}, 5, DType::f32); }));
  EXPECT_TRUE(BackendsMatchReference([] {
    diffvi::Generator gen(6);
    return diffvi::randn({300, 300}, gen);
  }));
  EXPECT_TRUE(BackendsMatchReference([] { return diffvi::arange(0, 90000, 1.0); }));
}

TEST(Threaded, ReductionsOverEveryAxisAndCumsum) {
  const Tensor x = testutil::Uniform({64, 40, 24}, 7, DType::f32, -3, 3);
  for (const std::vector<int64_t>& dims :
       std::vector<std::vector<int64_t>>{{}, {0}, {1}, {2}, {0, 2}}) {
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::sum(x, dims); }, 1e-4, 1e-4));
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::max(x, dims); }));
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::min(x, dims); }));
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::logsumexp(x, dims); }, 1e-4, 1e-4));
    EXPECT_TRUE(BackwardBackendsMatchReference(
        [&](const In& in) { return diffvi::logsumexp(in[0], dims); }, {x}));
  }
  for (int64_t d : {0, 1, 2}) {
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::cumsum(x, d); }, 1e-4, 1e-4));
  }
}

TEST(Threaded, MatmulAndLinearWithAndWithoutBiasForEveryActivation) {
  const Tensor a = testutil::Uniform({4, 96, 80}, 8, DType::f32);
  const Tensor b = testutil::Uniform({4, 80, 72}, 9, DType::f32);
  EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::matmul(a, b); }, 1e-4, 1e-4));
  EXPECT_TRUE(BackwardBackendsMatchReference(
      [](const In& in) { return diffvi::matmul(in[0], in[1]); }, {a, b}, 1e-4, 1e-4));
  const Tensor x = testutil::Uniform({512, 96}, 10, DType::f32);
  const Tensor w = testutil::Uniform({128, 96}, 11, DType::f32);
  const Tensor thin_w = testutil::Uniform({3, 96}, 12, DType::f32);
  const Tensor bias = testutil::Uniform({128}, 13, DType::f32);
  const Tensor thin_bias = testutil::Uniform({3}, 14, DType::f32);
  for (int i = 0; i < diffvi::kActivationCount; ++i) {
    const auto act = static_cast<Activation>(i);
    for (bool with_bias : {false, true}) {
      EXPECT_TRUE(BackendsMatchReference(
          [&] {
            diffvi::NoGradGuard
                no_grad;  // the fused kernel (training composes linear + activation)
            return diffvi::linear(x, w, with_bias ? bias : Tensor(), act);
          },
          1e-4, 1e-4))
          << "activation " << i << " bias " << with_bias;
      EXPECT_TRUE(BackendsMatchReference(
          [&] {
            diffvi::NoGradGuard no_grad;
            return diffvi::linear(x, thin_w, with_bias ? thin_bias : Tensor(), act);
          },
          1e-4, 1e-4))
          << "thin, activation " << i << " bias " << with_bias;
      In in = {x, w};
      if (with_bias) in.push_back(bias);
      EXPECT_TRUE(BackwardBackendsMatchReference(
          [act](const In& v) {
            return diffvi::linear(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), act);
          },
          in, 1e-4, 1e-4))
          << "activation " << i << " bias " << with_bias;
    }
  }
}

TEST(Threaded, Conv2dForwardAndBothBackwardsWithAndWithoutBias) {
  const Tensor x = testutil::Uniform({4, 8, 28, 28}, 15, DType::f32);
  const Tensor w = testutil::Uniform({16, 8, 3, 3}, 16, DType::f32, -0.3, 0.3);
  const Tensor bias = testutil::Uniform({16}, 17, DType::f32);
  for (bool with_bias : {false, true}) {
    EXPECT_TRUE(BackendsMatchReference(
        [&] { return diffvi::conv2d(x, w, with_bias ? bias : Tensor(), 1, 1); }, 1e-4, 1e-4));
    In in = {x, w};
    if (with_bias) in.push_back(bias);
    EXPECT_TRUE(BackwardBackendsMatchReference(
        [](const In& v) {
          return diffvi::conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), 1, 1);
        },
        in, 1e-4, 1e-3))
        << "bias " << with_bias;
  }
}

TEST(Threaded, SoftmaxForwardAndBackward) {
  const Tensor x = testutil::Uniform(kBig, 18, DType::f32, -4, 4);
  for (int64_t dim : {0, 1}) {
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::softmax(x, dim); }));
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::log_softmax(x, dim); }));
    EXPECT_TRUE(BackwardBackendsMatchReference(
        [dim](const In& in) { return diffvi::softmax(in[0], dim); }, {x}));
    EXPECT_TRUE(BackwardBackendsMatchReference(
        [dim](const In& in) { return diffvi::log_softmax(in[0], dim); }, {x}));
  }
}

// The kernel behind the crash of issue 19: dgamma/dbeta slices summed when neither was asked for.
TEST(Threaded, LayerNormWithEveryCombinationOfAffineParameters) {
  const Tensor x = testutil::Uniform({512, 96}, 19, DType::f32, -2, 2);
  const Tensor gamma = testutil::Uniform({96}, 20, DType::f32, 0.5, 1.5);
  const Tensor beta = testutil::Uniform({96}, 21, DType::f32);
  for (bool g : {false, true}) {
    for (bool b : {false, true}) {
      EXPECT_TRUE(BackendsMatchReference([&] {
        return diffvi::layer_norm(x, {96}, g ? gamma : Tensor(), b ? beta : Tensor());
      })) << "gamma "
          << g << " beta " << b;
      // Gradients of x alone (the affine tensors as constants), and of everything.
      EXPECT_TRUE(BackwardBackendsMatchReference(
          [&](const In& in) {
            return diffvi::layer_norm(in[0], {96}, g ? gamma : Tensor(), b ? beta : Tensor());
          },
          {x}, 1e-4, 1e-4))
          << "dx only, gamma " << g << " beta " << b;
      In in = {x};
      if (g) in.push_back(gamma);
      if (b) in.push_back(beta);
      EXPECT_TRUE(BackwardBackendsMatchReference(
          [g, b](const In& v) {
            return diffvi::layer_norm(v[0], {96}, g ? v[1] : Tensor(), b ? v[g ? 2 : 1] : Tensor());
          },
          in, 1e-4, 1e-4))
          << "all, gamma " << g << " beta " << b;
    }
  }
}

TEST(Threaded, GroupNormBackwardAtTheIssueShapes) {
  for (const Shape& shape : std::vector<Shape>{{2, 32, 28, 28}, {8, 64, 14, 14}}) {
    for (bool affine : {false, true}) {
      diffvi::nn::GroupNorm norm(8, shape[1], diffvi::nn::GroupNormOptions().set_affine(affine));
      const Tensor x = testutil::Uniform(shape, 22, DType::f32, -2, 2);
      EXPECT_TRUE(BackwardBackendsMatchReference(
          [&](const In& in) { return diffvi::square(norm(in[0])); }, {x}, 1e-4, 1e-4))
          << diffvi::shape_str(shape) << " affine " << affine;
    }
  }
}

TEST(Threaded, IndexingKernels) {
  const Tensor x = testutil::Uniform({400, 120}, 23, DType::f32);
  diffvi::Generator gen(24);
  const Tensor rows = diffvi::raw::to(
      diffvi::uniform({600}, 0, 399.99, gen, diffvi::TensorOptions(DType::f64)), DType::i64);
  const Tensor cols = diffvi::raw::to(
      diffvi::uniform({400, 120}, 0, 119.99, gen, diffvi::TensorOptions(DType::f64)), DType::i64);
  EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::index_select(x, 0, rows); }));
  EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::gather(x, 1, cols); }));
  EXPECT_TRUE(
      BackendsMatchReference([&] { return diffvi::scatter_add(x, 1, cols, x); }, 1e-4, 1e-4));
  EXPECT_TRUE(BackwardBackendsMatchReference(
      [&](const In& in) { return diffvi::index_select(in[0], 0, rows); }, {x}, 1e-4, 1e-4));
}

TEST(Threaded, AdamWOverManyParameters) {
  for (DType dtype : {DType::f32, DType::f64}) {
    auto run = [&] {
      std::vector<Tensor> params = {testutil::Leaf(testutil::Uniform({300, 200}, 25, dtype)),
                                    testutil::Leaf(testutil::Uniform({77}, 26, dtype))};
      diffvi::nn::AdamW opt(params, diffvi::nn::AdamWOptions(1e-2));
      for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        diffvi::backward(diffvi::add(diffvi::sum(diffvi::square(params[0])),
                                     diffvi::sum(diffvi::exp(params[1]))));
        opt.step();
      }
      return diffvi::cat({diffvi::flatten(params[0]), params[1]});
    };
    EXPECT_TRUE(BackendsMatchReference([&] { return diffvi::detach(run()); }, 1e-5, 1e-6))
        << diffvi::dtype_name(dtype);
  }
}

// The U-Net of issue 19 (defaults, AdamW) trains at 2 threads: it segfaulted on its first
// backward. A small batch keeps it quick under the sanitizers; GroupNorm's shapes are the same.
TEST(Threaded, UNetTrainingStepAtTwoThreads) {
  testutil::ThreadCountGuard threads(2);
  diffvi::Generator gen(27);
  diffvi::nn::UNet net({}, gen);
  diffvi::nn::AdamW opt(net.parameters(), diffvi::nn::AdamWOptions(1e-3));
  const Tensor x = testutil::Uniform({4, 1, 28, 28}, 28, DType::f32);
  const Tensor t = testutil::Uniform({4}, 29, DType::f32, 0, 1);
  double first = 0, last = 0;
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor loss = diffvi::mean(diffvi::square(diffvi::sub(net(x, t), x)));
    diffvi::backward(loss);
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, first);  // the same batch three times: the loss goes down
}

}  // namespace
