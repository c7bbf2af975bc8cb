// softmax, log_softmax and layer_norm: f32 CPU (oneDNN) vs reference forward and backward on
// every dim and layout, f64 closed forms, f64 gradcheck on both backends.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;

namespace {

const std::vector<std::pair<Shape, int64_t>> kSoftmaxCases = {
    {{5}, 0},    {{3, 4}, -1}, {{3, 4}, 0},   {{2, 3, 4}, 1}, {{1, 1}, 1},    {{4, 1}, 1},
    {{0, 5}, 1}, {{3, 0}, 0},  {{33, 70}, 1}, {{70, 33}, 0},  {{2, 5, 3}, 2}, {{}, 0}};

TEST(Softmax, BackendsMatchReferenceF32) {
  uint64_t seed = 1;
  for (bool log : {false, true}) {
    for (const auto& [shape, dim] : kSoftmaxCases) {
      const Tensor x = testutil::Uniform(shape, seed++, DType::f32, -4, 4);
      auto f = [&](const Tensor& in) {
        return log ? diffvi::log_softmax(in, dim) : diffvi::softmax(in, dim);
      };
      for (const Tensor& in : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
        EXPECT_TRUE(testutil::BackendsMatchReference([&] { return f(in); }))
            << (log ? "log_softmax " : "softmax ") << diffvi::shape_str(shape) << " dim " << dim;
      }
      EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
          [&](const std::vector<Tensor>& in) { return f(in[0]); }, {x}))
          << (log ? "log_softmax " : "softmax ") << diffvi::shape_str(shape) << " dim " << dim;
    }
  }
}

TEST(Softmax, ReferenceF64ClosedFormAndStability) {
  diffvi::BackendGuard guard("reference");
  const Tensor x =
      diffvi::from_vector(std::vector<double>{1, 2, 3, 1000, 1000, 1000}, {2, 3}, DType::f64);
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const Tensor want =
      diffvi::from_vector(std::vector<double>{std::exp(1.0) / z, std::exp(2.0) / z,
                                              std::exp(3.0) / z, 1.0 / 3, 1.0 / 3, 1.0 / 3},
                          {2, 3}, DType::f64);
  EXPECT_TRUE(AllClose(diffvi::softmax(x, 1), want, 1e-14, 1e-15));
  EXPECT_TRUE(AllClose(diffvi::log_softmax(x, 1), diffvi::log(want), 1e-14, 1e-14));
  // Along dim 0: each column pairs a small value with 1000.
  const std::vector<double> col = diffvi::softmax(x, 0).to_vector<double>();
  EXPECT_NEAR(col[0], std::exp(1.0 - 1000), 1e-300);
  EXPECT_DOUBLE_EQ(col[3], 1.0);
}

TEST(Softmax, Gradcheck) {
  const Tensor x = testutil::Leaf(testutil::Uniform({2, 3, 2}, 5, DType::f64, -2, 2));
  for (int64_t dim : {0, 1, -1}) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return diffvi::softmax(in[0], dim); },
                     std::vector<Tensor>{x});
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return diffvi::log_softmax(in[0], dim); },
                     std::vector<Tensor>{x});
  }
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& in) {
        return diffvi::log_softmax(diffvi::transpose(in[0], 0, 2), 1);
      },
      std::vector<Tensor>{x});
}

// --- layer_norm ----------------------------------------------------------------------------------

struct LnCase {
  Shape x, normalized;
};
const std::vector<LnCase> kLnCases = {{{4, 6}, {6}},      {{2, 3, 4}, {3, 4}}, {{5}, {5}},
                                      {{3, 1}, {1}},      {{0, 4}, {4}},       {{64, 96}, {96}},
                                      {{2, 2, 33}, {33}}, {{7, 2}, {2}}};

TEST(LayerNorm, BackendsMatchReferenceF32) {
  uint64_t seed = 1;
  for (const auto& [sx, norm] : kLnCases) {
    const Tensor x = testutil::Uniform(sx, seed++, DType::f32, -3, 3);
    const Tensor w = testutil::Uniform(norm, seed++, DType::f32, 0.5, 1.5);
    const Tensor b = testutil::Uniform(norm, seed++);
    for (const Tensor& in : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
      EXPECT_TRUE(testutil::BackendsMatchReference([&] {
        return diffvi::layer_norm(in, norm, w, b);
      })) << diffvi::shape_str(sx);
      EXPECT_TRUE(testutil::BackendsMatchReference([&] { return diffvi::layer_norm(in, norm); }))
          << diffvi::shape_str(sx) << " no affine";
    }
    // Backward (dx, dweight, dbias): the parameter gradients sum over rows, so allow the
    // reduction-order slack of a rows-long f32 sum.
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) {
          return diffvi::layer_norm(in[0], norm, in[1], in[2]);
        },
        {x, w, b}, 1e-5, 1e-5 * std::max<int64_t>(1, sx[0])))
        << diffvi::shape_str(sx);
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) { return diffvi::layer_norm(in[0], norm); }, {x}))
        << diffvi::shape_str(sx) << " no affine";
  }
}

TEST(LayerNorm, ReferenceF64ClosedForm) {
  diffvi::BackendGuard guard("reference");
  const Tensor x =
      diffvi::from_vector(std::vector<double>{1, 2, 3, 4, -2, 0, 2, 8}, {2, 4}, DType::f64);
  const Tensor w = diffvi::tensor({1, 2, 0.5, -1}, DType::f64);
  const Tensor b = diffvi::tensor({0, 1, 0, 0.25}, DType::f64);
  const double eps = 1e-5;
  const std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>(),
                            bv = b.to_vector<double>();
  std::vector<double> want(8);
  for (int r = 0; r < 2; ++r) {
    double mean = 0, var = 0;
    for (int c = 0; c < 4; ++c) mean += xv[r * 4 + c] / 4;
    for (int c = 0; c < 4; ++c) var += (xv[r * 4 + c] - mean) * (xv[r * 4 + c] - mean) / 4;
    for (int c = 0; c < 4; ++c) {
      want[r * 4 + c] = (xv[r * 4 + c] - mean) / std::sqrt(var + eps) * wv[c] + bv[c];
    }
  }
  EXPECT_TRUE(AllClose(diffvi::layer_norm(x, {4}, w, b, eps),
                       diffvi::from_vector(want, {2, 4}, DType::f64), 1e-13, 1e-13));
}

TEST(LayerNorm, Gradcheck) {
  const Tensor x = testutil::Leaf(testutil::Uniform({3, 4}, 9, DType::f64, -2, 2));
  const Tensor w = testutil::Leaf(testutil::Uniform({4}, 10, DType::f64, 0.5, 1.5));
  const Tensor b = testutil::Leaf(testutil::Uniform({4}, 11, DType::f64));
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& in) { return diffvi::layer_norm(in[0], {4}, in[1], in[2]); },
      (std::vector<Tensor>{x, w, b}));
  EXPECT_GRADCHECK([](const std::vector<Tensor>& in) { return diffvi::layer_norm(in[0], {4}); },
                   std::vector<Tensor>{x});
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& in) { return diffvi::layer_norm(in[0], {4}, in[1]); },
      (std::vector<Tensor>{x, w}));
  // Two normalised dims through a transposed input.
  const Tensor x3 = testutil::Leaf(testutil::Uniform({2, 3, 2}, 12, DType::f64, -2, 2));
  const Tensor w2 = testutil::Leaf(testutil::Uniform({2, 3}, 13, DType::f64, 0.5, 1.5));
  EXPECT_GRADCHECK(
      [](const std::vector<Tensor>& in) {
        return diffvi::layer_norm(diffvi::transpose(in[0], 1, 2), {2, 3}, in[1]);
      },
      (std::vector<Tensor>{x3, w2}));
}

}  // namespace
