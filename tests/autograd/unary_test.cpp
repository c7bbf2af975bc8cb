// Unary ops: f32 CPU-vs-reference parity on many shapes and layouts (forward and backward), f64
// values on the reference backend against the scalar closed form, and f64 gradcheck on both
// backends.
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

enum class Domain { kAny, kPositive, kAwayFromZero };

struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  std::function<double(double)> closed_form;
  Domain domain;
};

Tensor Input(const Shape& shape, Domain d, uint64_t seed, DType dt) {
  switch (d) {
    case Domain::kPositive:
      return testutil::Uniform(shape, seed, dt, 0.1, 3.0);
    case Domain::kAwayFromZero:
      return testutil::AwayFromZero(shape, seed, dt, 0.2, 1.5);
    default:
      return testutil::Uniform(shape, seed, dt, -2.0, 2.0);
  }
}

double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

const std::vector<UnaryCase>& Cases() {
  static const std::vector<UnaryCase> cases = {
      {"neg", [](const Tensor& x) { return diffvi::neg(x); }, [](double x) { return -x; },
       Domain::kAny},
      {"operator_neg", [](const Tensor& x) { return -x; }, [](double x) { return -x; },
       Domain::kAny},
      {"exp", [](const Tensor& x) { return diffvi::exp(x); }, [](double x) { return std::exp(x); },
       Domain::kAny},
      {"log", [](const Tensor& x) { return diffvi::log(x); }, [](double x) { return std::log(x); },
       Domain::kPositive},
      {"log1p", [](const Tensor& x) { return diffvi::log1p(x); },
       [](double x) { return std::log1p(x); }, Domain::kPositive},
      {"expm1", [](const Tensor& x) { return diffvi::expm1(x); },
       [](double x) { return std::expm1(x); }, Domain::kAny},
      {"sqrt", [](const Tensor& x) { return diffvi::sqrt(x); },
       [](double x) { return std::sqrt(x); }, Domain::kPositive},
      {"rsqrt", [](const Tensor& x) { return diffvi::rsqrt(x); },
       [](double x) { return 1 / std::sqrt(x); }, Domain::kPositive},
      {"square", [](const Tensor& x) { return diffvi::square(x); }, [](double x) { return x * x; },
       Domain::kAny},
      {"reciprocal", [](const Tensor& x) { return diffvi::reciprocal(x); },
       [](double x) { return 1 / x; }, Domain::kAwayFromZero},
      {"abs", [](const Tensor& x) { return diffvi::abs(x); }, [](double x) { return std::abs(x); },
       Domain::kAwayFromZero},
      {"sign", [](const Tensor& x) { return diffvi::sign(x); },
       [](double x) { return x > 0 ? 1.0 : -1.0; }, Domain::kAwayFromZero},
      {"sin", [](const Tensor& x) { return diffvi::sin(x); }, [](double x) { return std::sin(x); },
       Domain::kAny},
      {"cos", [](const Tensor& x) { return diffvi::cos(x); }, [](double x) { return std::cos(x); },
       Domain::kAny},
      {"tanh", [](const Tensor& x) { return diffvi::tanh(x); },
       [](double x) { return std::tanh(x); }, Domain::kAny},
      {"sigmoid", [](const Tensor& x) { return diffvi::sigmoid(x); }, Sigmoid, Domain::kAny},
      {"softplus", [](const Tensor& x) { return diffvi::softplus(x); },
       [](double x) { return std::log1p(std::exp(x)); }, Domain::kAny},
      {"relu", [](const Tensor& x) { return diffvi::relu(x); },
       [](double x) { return x > 0 ? x : 0.0; }, Domain::kAwayFromZero},
      {"gelu_erf", [](const Tensor& x) { return diffvi::gelu(x); },
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }, Domain::kAny},
      {"gelu_tanh", [](const Tensor& x) { return diffvi::gelu(x, diffvi::GeluApprox::tanh); },
       [](double x) {
         return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
       },
       Domain::kAny},
      {"silu", [](const Tensor& x) { return diffvi::silu(x); },
       [](double x) { return x * Sigmoid(x); }, Domain::kAny},
      {"erf", [](const Tensor& x) { return diffvi::erf(x); }, [](double x) { return std::erf(x); },
       Domain::kAny},
      {"pow_3", [](const Tensor& x) { return diffvi::pow(x, 3.0); },
       [](double x) { return x * x * x; }, Domain::kAny},
      {"pow_2_5", [](const Tensor& x) { return diffvi::pow(x, 2.5); },
       [](double x) { return std::pow(x, 2.5); }, Domain::kPositive},
      {"pow_neg_1_5", [](const Tensor& x) { return diffvi::pow(x, -1.5); },
       [](double x) { return std::pow(x, -1.5); }, Domain::kPositive},
      {"clamp_both", [](const Tensor& x) { return diffvi::clamp(x, -0.5, 0.7); },
       [](double x) { return std::min(std::max(x, -0.5), 0.7); }, Domain::kAwayFromZero},
      {"clamp_min", [](const Tensor& x) { return diffvi::clamp(x, 0.3, std::nullopt); },
       [](double x) { return std::max(x, 0.3); }, Domain::kAwayFromZero},
      {"clamp_max", [](const Tensor& x) { return diffvi::clamp(x, std::nullopt, -0.4); },
       [](double x) { return std::min(x, -0.4); }, Domain::kAwayFromZero},
      {"activation_silu",
       [](const Tensor& x) { return diffvi::activation(x, diffvi::Activation::silu); },
       [](double x) { return x * Sigmoid(x); }, Domain::kAny},
      {"activation_none",
       [](const Tensor& x) { return diffvi::activation(x, diffvi::Activation::none); },
       [](double x) { return x; }, Domain::kAny},
      {"scalar_add", [](const Tensor& x) { return x + 1.5; }, [](double x) { return x + 1.5; },
       Domain::kAny},
      {"scalar_sub", [](const Tensor& x) { return x - 0.25; }, [](double x) { return x - 0.25; },
       Domain::kAny},
      {"scalar_mul", [](const Tensor& x) { return 3.0 * x; }, [](double x) { return 3 * x; },
       Domain::kAny},
      {"scalar_div", [](const Tensor& x) { return x / 4.0; }, [](double x) { return x / 4; },
       Domain::kAny},
      {"rsub", [](const Tensor& x) { return 2.0 - x; }, [](double x) { return 2 - x; },
       Domain::kAny},
      {"rdiv", [](const Tensor& x) { return diffvi::rdiv(2.0, x); }, [](double x) { return 2 / x; },
       Domain::kAwayFromZero},
  };
  return cases;
}

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const UnaryCase& c, std::ostream* os) { *os << c.name; }

class UnaryTest : public ::testing::TestWithParam<UnaryCase> {};

// Shapes cover rank 0, size-0 and size-1 dims, and sizes large enough for the vector loops and
// their remainders.
const std::vector<Shape> kShapes = {{},        {0},       {1},      {1, 1}, {7},
                                    {3, 1, 4}, {2, 0, 3}, {33, 17}, {1031}};

TEST_P(UnaryTest, BackendsMatchReferenceF32) {
  const UnaryCase& c = GetParam();
  uint64_t seed = 1;
  for (const Shape& shape : kShapes) {
    const Tensor x = Input(shape, c.domain, seed++, DType::f32);
    for (const Tensor& in : {x, testutil::StridedCopy(x), testutil::TransposedCopy(x)}) {
      EXPECT_TRUE(testutil::BackendsMatchReference([&] { return c.fn(in); }))
          << c.name << " on " << diffvi::shape_str(shape) << " strides "
          << diffvi::shape_str(in.strides());
    }
  }
}

TEST_P(UnaryTest, BackwardBackendsMatchReferenceF32) {
  const UnaryCase& c = GetParam();
  uint64_t seed = 100;
  for (const Shape& shape : {Shape{}, Shape{1}, Shape{0, 2}, Shape{5, 3}, Shape{67}}) {
    const Tensor x = Input(shape, c.domain, seed++, DType::f32);
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x}))
        << c.name << " on " << diffvi::shape_str(shape);
    // Through a transposed view of the leaf.
    if (x.dim() == 2) {
      EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
          [&](const std::vector<Tensor>& in) { return c.fn(diffvi::transpose(in[0], 0, 1)); }, {x}))
          << c.name << " transposed";
    }
  }
}

TEST_P(UnaryTest, ReferenceF64MatchesClosedForm) {
  const UnaryCase& c = GetParam();
  const Tensor x = Input({4, 5}, c.domain, 7, DType::f64);
  const Tensor y = testutil::OnBackend("reference", [&] { return c.fn(x); });
  const std::vector<double> xs = x.to_vector<double>();
  std::vector<double> want(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) want[i] = c.closed_form(xs[i]);
  EXPECT_TRUE(AllClose(y, diffvi::from_vector(want, {4, 5}, DType::f64), 1e-12, 1e-12)) << c.name;
  // The CPU backend's f64 path as well.
  EXPECT_TRUE(AllClose(c.fn(x), diffvi::from_vector(want, {4, 5}, DType::f64), 1e-12, 1e-12))
      << c.name << " (cpu)";
}

TEST_P(UnaryTest, Gradcheck) {
  const UnaryCase& c = GetParam();
  const Tensor x = testutil::Leaf(Input({2, 3}, c.domain, 11, DType::f64));
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                   std::vector<Tensor>{x});
  // Through a non-contiguous view, and on a rank-0 input.
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) { return c.fn(diffvi::transpose(in[0], 0, 1)); },
      std::vector<Tensor>{x});
  const Tensor s = testutil::Leaf(Input({}, c.domain, 12, DType::f64));
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                   std::vector<Tensor>{s});
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<UnaryCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(Unary, ReluAndAbsGradientsAtZeroFollowTheContract) {
  // The contract: derivative 0 at the kink for relu and abs; clamp passes the gradient on the
  // closed interval.
  Tensor x = testutil::Leaf(diffvi::from_vector(std::vector<double>{0, -1, 2}, {3}, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::relu(x)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 0, 1}));
  x.set_grad(Tensor());
  diffvi::backward(diffvi::sum(diffvi::abs(x)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, -1, 1}));
  x.set_grad(Tensor());
  diffvi::backward(diffvi::sum(diffvi::clamp(x, 0.0, 2.0)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 0, 1}));
}

TEST(Unary, SoftplusIsStableForLargeInputs) {
  Tensor x = diffvi::from_vector(std::vector<double>{-800, -30, 30, 800}, {4}, DType::f64);
  for (const std::string& b : testutil::HostBackends()) {
    const std::vector<double> y =
        testutil::OnBackend(b, [&] { return diffvi::softplus(x); }).to_vector<double>();
    EXPECT_NEAR(y[0], 0.0, 1e-300) << b;
    EXPECT_NEAR(y[1], std::exp(-30.0), 1e-20) << b;
    EXPECT_DOUBLE_EQ(y[2], 30 + std::log1p(std::exp(-30.0))) << b;
    EXPECT_DOUBLE_EQ(y[3], 800.0) << b;
  }
}

// The CPU backend's vectorised GELU (A&S 7.1.26 for Φ, its own exp) against the reference's
// double-precision erf over the whole range, the tails where Φ underflows or saturates, and the
// special values, forward and backward; the run ends mid-vector.
TEST(Unary, VectorisedGeluMatchesTheReferenceOverItsRange) {
  std::vector<float> xs;
  for (int i = 0; i <= 4000; ++i) xs.push_back(-20.f + 40.f * static_cast<float>(i) / 4000.f);
  xs.insert(xs.end(),
            {0.f, -0.f, 1e-30f, -1e-30f, 88.f, -88.f, 1e30f, -1e30f,
             std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()});
  const Tensor x = diffvi::from_vector(xs, {static_cast<int64_t>(xs.size())});
  EXPECT_TRUE(testutil::BackendsMatchReference([&] { return diffvi::gelu(x); }, 1e-5, 1e-6));
  const Tensor dy = testutil::Uniform(x.shape(), 3, DType::f32, 0.5, 1.5);
  EXPECT_TRUE(testutil::BackendsMatchReference(
      [&] { return diffvi::raw::unary_backward(diffvi::UnaryOp::gelu_erf, x, dy); }, 1e-5, 1e-6));
}

TEST(Unary, SigmoidSaturatesWithoutNaN) {
  Tensor x = diffvi::from_vector(std::vector<float>{-200, 200}, {2});
  for (const std::string& b : testutil::HostBackends()) {
    const std::vector<float> y =
        testutil::OnBackend(b, [&] { return diffvi::sigmoid(x); }).to_vector<float>();
    EXPECT_EQ(y[0], 0.0f) << b;
    EXPECT_EQ(y[1], 1.0f) << b;
  }
}

TEST(Unary, IntegerInputIsRejected) {
  EXPECT_THROW(diffvi::exp(diffvi::zeros({2}, DType::i64)), diffvi::DTypeError);
}

}  // namespace
