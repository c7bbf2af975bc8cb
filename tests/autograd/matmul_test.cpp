// matmul (NumPy semantics, batched, broadcasting batch dims) and linear (x·Wᵀ + b with a fused
// activation): f32 CPU (oneDNN / OpenBLAS) vs reference, f64 closed forms, f64 gradcheck.
//
// Tolerance: oneDNN's GEMM blocks and vectorises the K loop, so its f32 accumulation order
// differs from the reference's sequential loop. The rounding error of a K-term dot product grows
// like sqrt(K) * eps * sum|x_k w_k| rather than with |result|, so results near zero (from
// cancellation) need an absolute slack: we use rtol 1e-5 and atol 1e-5 * K.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "test_util.h"

using diffvi::Activation;
using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;

namespace {

double MatmulAtol(int64_t k) { return 1e-5 * std::max<int64_t>(k, 1); }

struct MatmulShapes {
  Shape x, w;
};

const std::vector<MatmulShapes> kShapes = {{{3, 4}, {4, 5}},
                                           {{1, 1}, {1, 1}},
                                           {{4}, {4, 3}},
                                           {{3, 4}, {4}},
                                           {{5}, {5}},
                                           {{2, 3, 4}, {2, 4, 5}},
                                           {{2, 3, 4}, {4, 5}},
                                           {{3, 4}, {2, 4, 5}},
                                           {{2, 1, 3, 4}, {3, 4, 2}},
                                           {{0, 4}, {4, 3}},
                                           {{3, 0}, {0, 2}},
                                           {{2, 3}, {3, 0}},
                                           {{64, 65}, {65, 63}},
                                           {{4, 17, 33}, {33, 9}},
                                           {{1, 7}, {7, 1}},
                                           {{2, 0, 3}, {3, 4}}};

TEST(Matmul, BackendsMatchReferenceF32) {
  uint64_t seed = 1;
  for (const auto& [sx, sw] : kShapes) {
    const Tensor x = testutil::Uniform(sx, seed++), w = testutil::Uniform(sw, seed++);
    const double atol = MatmulAtol(sx.back());
    // Dense, transposed (the layout of a transposed weight) and strided operands.
    for (const Tensor& xv : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
      for (const Tensor& wv : {w, testutil::TransposedCopy(w)}) {
        EXPECT_TRUE(
            testutil::BackendsMatchReference([&] { return diffvi::matmul(xv, wv); }, 1e-5, atol))
            << diffvi::shape_str(sx) << " x " << diffvi::shape_str(sw) << " strides "
            << diffvi::shape_str(xv.strides()) << " " << diffvi::shape_str(wv.strides());
      }
    }
  }
}

TEST(Matmul, BackendsMatchReferenceF64) {
  // The CPU backend's f64 path is OpenBLAS; the reference is its oracle in f64 too.
  uint64_t seed = 100;
  for (const auto& [sx, sw] : kShapes) {
    const Tensor x = testutil::Uniform(sx, seed++, DType::f64);
    const Tensor w = testutil::Uniform(sw, seed++, DType::f64);
    EXPECT_TRUE(testutil::BackendsMatchReference(
        [&] { return diffvi::matmul(testutil::TransposedCopy(x), w); }, 1e-12, 1e-12))
        << diffvi::shape_str(sx) << " x " << diffvi::shape_str(sw);
  }
}

TEST(Matmul, BackwardBackendsMatchReferenceF32) {
  uint64_t seed = 200;
  for (const auto& [sx, sw] : kShapes) {
    const Tensor x = testutil::Uniform(sx, seed++), w = testutil::Uniform(sw, seed++);
    // Gradients contract over M/N (and batch), so the absolute slack follows the largest extent.
    int64_t k = 1;
    for (int64_t s : sx) k = std::max(k, s);
    for (int64_t s : sw) k = std::max(k, s);
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [](const std::vector<Tensor>& in) { return diffvi::matmul(in[0], in[1]); }, {x, w}, 1e-5,
        MatmulAtol(k)))
        << diffvi::shape_str(sx) << " x " << diffvi::shape_str(sw);
  }
}

TEST(Matmul, ReferenceF64ClosedForm) {
  diffvi::BackendGuard guard("reference");
  const Tensor a = diffvi::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, DType::f64);
  const Tensor b =
      diffvi::from_vector(std::vector<double>{7, 8, 9, 10, 11, 12}, {3, 2}, DType::f64);
  EXPECT_EQ(diffvi::matmul(a, b).to_vector<double>(), (std::vector<double>{58, 64, 139, 154}));
  EXPECT_EQ(diffvi::matmul(a, b).shape(), (Shape{2, 2}));
  EXPECT_EQ(diffvi::matmul(diffvi::tensor({1, 2, 3}, DType::f64), b).to_vector<double>(),
            (std::vector<double>{58, 64}));
  EXPECT_EQ(
      diffvi::matmul(diffvi::tensor({1, 2, 3}, DType::f64), diffvi::tensor({4, 5, 6}, DType::f64))
          .shape(),
      Shape{});
  // K = 0 gives zeros, not garbage.
  EXPECT_EQ(diffvi::matmul(diffvi::ones({2, 0}, DType::f64), diffvi::ones({0, 3}, DType::f64))
                .to_vector<double>(),
            std::vector<double>(6, 0.0));
  // Broadcast batch: [2, 1, 2, 3] x [3, 3, 2] -> [2, 3, 2, 2], each block a·b scaled.
  const Tensor batched =
      diffvi::matmul(diffvi::expand(diffvi::reshape(a, {1, 1, 2, 3}), {2, 1, 2, 3}),
                     diffvi::stack({b, diffvi::mul(b, 2.0), diffvi::mul(b, 3.0)}));
  EXPECT_EQ(batched.shape(), (Shape{2, 3, 2, 2}));
  const std::vector<double> v = batched.to_vector<double>();
  EXPECT_EQ(v[1 * 12 + 2 * 4 + 1 * 2 + 1], 3 * 154.0);  // [1, 2, 1, 1]
  EXPECT_EQ(v[0 * 12 + 1 * 4 + 0 * 2 + 0], 2 * 58.0);   // [0, 1, 0, 0]
}

TEST(Matmul, Gradcheck) {
  const std::vector<MatmulShapes> shapes = {{{2, 3}, {3, 2}},    {{3}, {3, 2}},
                                            {{2, 3}, {3}},       {{3}, {3}},
                                            {{2, 2, 3}, {3, 2}}, {{2, 1, 2, 3}, {2, 3, 1}}};
  uint64_t seed = 300;
  for (const auto& [sx, sw] : shapes) {
    const Tensor x = testutil::Leaf(testutil::Uniform(sx, seed++, DType::f64));
    const Tensor w = testutil::Leaf(testutil::Uniform(sw, seed++, DType::f64));
    EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return diffvi::matmul(in[0], in[1]); },
                     (std::vector<Tensor>{x, w}));
  }
  // A transposed weight, as in x · Wᵀ.
  const Tensor x = testutil::Leaf(testutil::Uniform({2, 3}, 9, DType::f64));
  const Tensor w = testutil::Leaf(testutil::Uniform({4, 3}, 10, DType::f64));
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& in) {
        return diffvi::matmul(in[0], diffvi::transpose(in[1], 0, 1));
      },
      (std::vector<Tensor>{x, w}));
}

// --- linear --------------------------------------------------------------------------------------

struct ActCase {
  const char* name;
  Activation act;
  std::function<Tensor(const Tensor&)> unfused;
};

const std::vector<ActCase> kActs = {
    {"none", Activation::none, [](const Tensor& t) { return t; }},
    {"relu", Activation::relu, [](const Tensor& t) { return diffvi::relu(t); }},
    {"gelu_erf", Activation::gelu_erf, [](const Tensor& t) { return diffvi::gelu(t); }},
    {"gelu_tanh", Activation::gelu_tanh,
     [](const Tensor& t) { return diffvi::gelu(t, diffvi::GeluApprox::tanh); }},
    {"silu", Activation::silu, [](const Tensor& t) { return diffvi::silu(t); }},
    {"tanh", Activation::tanh, [](const Tensor& t) { return diffvi::tanh(t); }},
    {"sigmoid", Activation::sigmoid, [](const Tensor& t) { return diffvi::sigmoid(t); }},
};

TEST(Linear, BackendsMatchReferenceF32) {
  const std::vector<std::pair<Shape, int64_t>> shapes = {
      {{5, 3}, 4}, {{3}, 2}, {{2, 3, 8}, 6}, {{1, 1}, 1}, {{0, 4}, 3}, {{64, 96}, 80}, {{7, 0}, 3}};
  uint64_t seed = 1;
  for (const ActCase& a : kActs) {
    for (const auto& [sx, n] : shapes) {
      const Tensor x = testutil::Uniform(sx, seed++);
      const Tensor w = testutil::Uniform({n, sx.back()}, seed++);
      const Tensor b = testutil::Uniform({n}, seed++);
      const double atol = MatmulAtol(sx.back());
      for (const Tensor& bias : {b, Tensor()}) {
        EXPECT_TRUE(testutil::BackendsMatchReference(
            [&] { return diffvi::linear(testutil::TransposedCopy(x), w, bias, a.act); }, 1e-5,
            atol))
            << a.name << " " << diffvi::shape_str(sx) << " n " << n;
        EXPECT_TRUE(testutil::BackendsMatchReference(
            [&] { return diffvi::linear(x, testutil::TransposedCopy(w), bias, a.act); }, 1e-5,
            atol))
            << a.name << " " << diffvi::shape_str(sx) << " n " << n;
      }
      EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
          [&](const std::vector<Tensor>& in) { return diffvi::linear(in[0], in[1], in[2], a.act); },
          {x, w, b}, 1e-5, MatmulAtol(std::max<int64_t>(64, sx.back()))))
          << a.name << " " << diffvi::shape_str(sx);
    }
  }
}

TEST(Linear, EqualsUnfusedMatmulAddActivationInF64) {
  const Tensor x = testutil::AwayFromZero({4, 5}, 1, DType::f64);
  const Tensor w = testutil::Uniform({3, 5}, 2, DType::f64);
  const Tensor b = testutil::Uniform({3}, 3, DType::f64);
  for (const std::string& backend : testutil::HostBackends()) {
    diffvi::BackendGuard guard(backend);
    for (const ActCase& a : kActs) {
      const Tensor fused = diffvi::linear(x, w, b, a.act);
      const Tensor plain = a.unfused(diffvi::matmul(x, diffvi::transpose(w, 0, 1)) + b);
      EXPECT_TRUE(AllClose(fused, plain, 1e-12, 1e-12)) << a.name << " on " << backend;
    }
    EXPECT_TRUE(AllClose(diffvi::linear(x, w), diffvi::matmul(x, diffvi::transpose(w, 0, 1)), 1e-12,
                         1e-12));
  }
}

TEST(Linear, Gradcheck) {
  const Tensor x = testutil::Leaf(testutil::AwayFromZero({2, 3}, 4, DType::f64));
  const Tensor w = testutil::Leaf(testutil::Uniform({2, 3}, 5, DType::f64));
  const Tensor b = testutil::Leaf(testutil::Uniform({2}, 6, DType::f64));
  for (const ActCase& a : kActs) {
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return diffvi::linear(in[0], in[1], in[2], a.act); },
        (std::vector<Tensor>{x, w, b}));
  }
  // Batched input, no bias.
  const Tensor x3 = testutil::Leaf(testutil::Uniform({2, 2, 3}, 7, DType::f64));
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return diffvi::linear(in[0], in[1]); },
                   (std::vector<Tensor>{x3, w}));
}

}  // namespace
