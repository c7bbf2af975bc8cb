// Reductions over any dims with keepdim, cumsum and sum_to: f32 CPU-vs-reference parity forward
// and backward (dense, transposed and strided inputs, size-0/size-1 dims), f64 closed forms and
// f64 gradcheck on both backends.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;

namespace {

using Dims = std::vector<int64_t>;
using ReduceFn = std::function<Tensor(const Tensor&, const Dims&, bool)>;

struct ReduceCase {
  const char* name;
  ReduceFn fn;
  // Fewest elements per reduction the op accepts: max/min raise on an empty extent and var
  // raises unless the count exceeds its correction (tested in Reduce.TooFewElements).
  int64_t min_count;
};

int64_t CountPerReduction(const Shape& shape, const std::vector<int64_t>& dims) {
  if (dims.empty()) return diffvi::numel(shape);
  int64_t n = 1;
  for (int64_t d : dims) n *= shape[d < 0 ? d + static_cast<int64_t>(shape.size()) : d];
  return n;
}

const std::vector<ReduceCase>& Cases() {
  static const std::vector<ReduceCase> cases = {
      {"sum", [](const Tensor& x, const Dims& d, bool k) { return diffvi::sum(x, d, k); }, 0},
      {"mean", [](const Tensor& x, const Dims& d, bool k) { return diffvi::mean(x, d, k); }, 0},
      {"max", [](const Tensor& x, const Dims& d, bool k) { return diffvi::max(x, d, k); }, 1},
      {"min", [](const Tensor& x, const Dims& d, bool k) { return diffvi::min(x, d, k); }, 1},
      {"logsumexp",
       [](const Tensor& x, const Dims& d, bool k) { return diffvi::logsumexp(x, d, k); }, 0},
      {"var_unbiased",
       [](const Tensor& x, const Dims& d, bool k) { return diffvi::var(x, d, 1, k); }, 2},
      {"var_population",
       [](const Tensor& x, const Dims& d, bool k) { return diffvi::var(x, d, 0, k); }, 1},
  };
  return cases;
}

struct ShapeDims {
  Shape shape;
  Dims dims;
};

const std::vector<ShapeDims> kCases = {
    {{3, 4, 5}, {}},  {{3, 4, 5}, {0}}, {{3, 4, 5}, {-1}}, {{3, 4, 5}, {0, 2}}, {{3, 4, 5}, {1}},
    {{1, 7}, {0}},    {{1, 7}, {1}},    {{37, 65}, {0}},   {{37, 65}, {1}},     {{37, 65}, {}},
    {{2, 0, 3}, {2}}, {{}, {}},         {{5}, {0}},        {{4, 1, 6}, {1, 2}}, {{2, 3, 1}, {-1}},
};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const ReduceCase& c, std::ostream* os) { *os << c.name; }

class ReduceTest : public ::testing::TestWithParam<ReduceCase> {};

TEST_P(ReduceTest, BackendsMatchReferenceF32) {
  const ReduceCase& c = GetParam();
  uint64_t seed = 1;
  for (const auto& [shape, dims] : kCases) {
    const Tensor x = testutil::Uniform(shape, seed++, DType::f32, -2, 2);
    if (diffvi::numel(shape) > 0 && CountPerReduction(shape, dims) < c.min_count) continue;
    for (const Tensor& in : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
      for (bool keepdim : {false, true}) {
        EXPECT_TRUE(testutil::BackendsMatchReference([&] { return c.fn(in, dims, keepdim); }))
            << c.name << " of " << diffvi::shape_str(shape) << " over " << diffvi::shape_str(dims)
            << " keepdim " << keepdim << " strides " << diffvi::shape_str(in.strides());
      }
    }
  }
}

TEST_P(ReduceTest, BackwardBackendsMatchReferenceF32) {
  const ReduceCase& c = GetParam();
  uint64_t seed = 60;
  for (const auto& [shape, dims] : kCases) {
    const Tensor x = testutil::Uniform(shape, seed++, DType::f32, -2, 2);
    if (diffvi::numel(shape) > 0 && CountPerReduction(shape, dims) < c.min_count) continue;
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) { return c.fn(in[0], dims, false); }, {x}))
        << c.name << " of " << diffvi::shape_str(shape) << " over " << diffvi::shape_str(dims);
  }
}

TEST_P(ReduceTest, KeepdimShapes) {
  const ReduceCase& c = GetParam();
  const Tensor x = testutil::Uniform({2, 3, 4}, 3);
  EXPECT_EQ(c.fn(x, {1}, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(c.fn(x, {1}, false).shape(), (Shape{2, 4}));
  EXPECT_EQ(c.fn(x, {}, false).shape(), Shape{});
  EXPECT_EQ(c.fn(x, {}, true).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(c.fn(x, {-1, 0}, false).shape(), (Shape{3}));
}

TEST_P(ReduceTest, Gradcheck) {
  const ReduceCase& c = GetParam();
  const Tensor x = testutil::Leaf(testutil::Uniform({2, 3, 2}, 17, DType::f64, -2, 2));
  for (const Dims& dims : {Dims{}, Dims{1}, Dims{0, 2}, Dims{-1}}) {
    for (bool keepdim : {false, true}) {
      EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0], dims, keepdim); },
                       std::vector<Tensor>{x});
    }
  }
  // A non-contiguous input.
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return c.fn(diffvi::transpose(in[0], 0, 2), {1}, false);
      },
      std::vector<Tensor>{x});
}

INSTANTIATE_TEST_SUITE_P(Ops, ReduceTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<ReduceCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(Reduce, ReferenceF64ClosedForms) {
  diffvi::BackendGuard guard("reference");
  const std::vector<double> v = {1, -2, 3, 0.5, 4, 4, -1, 2};
  const Tensor x = diffvi::from_vector(v, {2, 4}, DType::f64);
  EXPECT_TRUE(AllClose(diffvi::sum(x, {1}), diffvi::tensor({2.5, 9}, DType::f64), 1e-15, 0));
  EXPECT_TRUE(
      AllClose(diffvi::mean(x, {0}), diffvi::tensor({2.5, 1, 1, 1.25}, DType::f64), 1e-15, 0));
  EXPECT_TRUE(AllClose(diffvi::max(x, {1}), diffvi::tensor({3, 4}, DType::f64), 0, 0));
  EXPECT_TRUE(AllClose(diffvi::min(x), diffvi::scalar_tensor(-2, DType::f64), 0, 0));
  const double lse0 = std::log(std::exp(1.0) + std::exp(-2.0) + std::exp(3.0) + std::exp(0.5));
  EXPECT_NEAR(diffvi::logsumexp(x, {1}).to_vector<double>()[0], lse0, 1e-14);
  // Row 0: mean 0.625, squared deviations sum to 12.6875.
  EXPECT_NEAR(diffvi::var(x, {1}).to_vector<double>()[0], 12.6875 / 3, 1e-14);
  EXPECT_NEAR(diffvi::var(x, {1}, 0).to_vector<double>()[0], 12.6875 / 4, 1e-14);
  EXPECT_EQ(diffvi::cumsum(x, 1).to_vector<double>(),
            (std::vector<double>{1, -1, 2, 2.5, 4, 8, 7, 9}));
  EXPECT_EQ(diffvi::cumsum(x, 0).to_vector<double>(),
            (std::vector<double>{1, -2, 3, 0.5, 5, 2, 2, 2.5}));
}

TEST(Reduce, LogsumexpIsStableForLargeValues) {
  const Tensor x = diffvi::tensor({1000, 1000, -1e30});
  for (const std::string& b : testutil::HostBackends()) {
    EXPECT_NEAR(testutil::OnBackend(b, [&] { return diffvi::logsumexp(x); }).item(),
                1000 + std::log(2.0), 1e-3)
        << b;
  }
}

TEST(Reduce, EmptyExtents) {
  const Tensor x = diffvi::zeros({2, 0, 3});
  for (const std::string& b : testutil::HostBackends()) {
    diffvi::BackendGuard guard(b);
    EXPECT_EQ(diffvi::sum(x, {1}).to_vector<float>(), std::vector<float>(6, 0.0f)) << b;
    EXPECT_EQ(diffvi::logsumexp(x, {1}).to_vector<float>(),
              std::vector<float>(6, -std::numeric_limits<float>::infinity()))
        << b;
    EXPECT_THROW(diffvi::max(x, {1}), diffvi::ValueError) << b;
    EXPECT_THROW(diffvi::min(x), diffvi::ValueError) << b;
    EXPECT_EQ(diffvi::sum(x).item(), 0.0) << b;
  }
}

TEST(Reduce, TooFewElementsForVarRaise) {
  // diffvi raises rather than returning NaN when count <= correction.
  EXPECT_THROW(diffvi::var(diffvi::zeros({1, 7}), {0}), diffvi::ValueError);
  EXPECT_THROW(diffvi::var(diffvi::zeros({2, 0}), {1}, 0), diffvi::ValueError);
  EXPECT_NO_THROW(diffvi::var(diffvi::zeros({1, 7}), {0}, 0));
}

TEST(Reduce, MaxGradientGoesToTheArgmax) {
  Tensor x = testutil::Leaf(
      diffvi::from_vector(std::vector<double>{1, 5, 2, 7, 0, 3}, {2, 3}, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::max(x, {1})));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

// --- cumsum --------------------------------------------------------------------------------------

TEST(Cumsum, BackendsMatchReferenceAndGradcheck) {
  uint64_t seed = 1;
  for (const auto& [shape, dim] : std::vector<std::pair<Shape, int64_t>>{{{5}, 0},
                                                                         {{3, 4}, 0},
                                                                         {{3, 4}, 1},
                                                                         {{2, 3, 4}, -2},
                                                                         {{1, 1}, 1},
                                                                         {{0, 3}, 1},
                                                                         {{40, 70}, 1},
                                                                         {{}, 0}}) {
    const Tensor x = testutil::Uniform(shape, seed++);
    for (const Tensor& in : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
      EXPECT_TRUE(testutil::BackendsMatchReference([&] { return diffvi::cumsum(in, dim); }))
          << diffvi::shape_str(shape) << " dim " << dim;
    }
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) { return diffvi::cumsum(in[0], dim); }, {x}));
  }
  const Tensor x = testutil::Leaf(testutil::Uniform({3, 4}, 5, DType::f64));
  for (int64_t dim : {0, 1, -1}) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return diffvi::cumsum(in[0], dim); },
                     std::vector<Tensor>{x});
  }
}

// --- sum_to --------------------------------------------------------------------------------------

TEST(SumTo, InvertsBroadcasting) {
  const Tensor x = testutil::Uniform({2, 3, 4}, 8, DType::f64);
  const std::vector<double> v = x.to_vector<double>();
  // sum_to [3, 1]: sum over dims 0 and 2.
  std::vector<double> want(3, 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) want[j] += v[(i * 3 + j) * 4 + k];
    }
  }
  EXPECT_TRUE(AllClose(diffvi::sum_to(x, {3, 1}), diffvi::from_vector(want, {3, 1}, DType::f64),
                       1e-14, 1e-14));
  EXPECT_EQ(diffvi::sum_to(x, {2, 3, 4}).to_vector<double>(), v);
  EXPECT_EQ(diffvi::sum_to(x, {}).shape(), Shape{});
  for (const Shape& target : {Shape{3, 1}, Shape{4}, Shape{1, 1, 4}, Shape{}, Shape{2, 1, 1}}) {
    EXPECT_TRUE(testutil::BackendsMatchReference(
        [&] { return diffvi::sum_to(diffvi::raw::to(x, DType::f32), target); }));
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return diffvi::sum_to(in[0], target); },
                     std::vector<Tensor>{testutil::Leaf(x)});
  }
}

}  // namespace
