// Every UnaryOp, BinaryOp and Activation through first- and second-order f64 gradcheck
// (gradcheck, gradgradcheck) on the CPU and reference backends. The tables are walked by the
// enums' counts (kUnaryOpCount, ...), so an op added later without a case here fails the test
// instead of skipping it. Then the second-derivative regressions of issue 19, each by its figure.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>

#include "diffvi/tensor/scalar_math.h"
#include "test_util.h"

using diffvi::Activation;
using diffvi::BinaryOp;
using diffvi::DType;
using diffvi::Tensor;
using diffvi::UnaryOp;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Where an op's inputs are drawn: [lo, hi), or magnitudes in [lo, hi) of either sign (kinks and
// poles at 0 stay clear of the finite differences).
struct Domain {
  double lo = -2, hi = 2;
  bool either_sign = false;
};

Tensor Draw(const Domain& d, const diffvi::Shape& shape, uint64_t seed) {
  Tensor x = d.either_sign ? testutil::AwayFromZero(shape, seed, DType::f64, d.lo, d.hi)
                           : testutil::Uniform(shape, seed, DType::f64, d.lo, d.hi);
  return testutil::Leaf(x);
}

struct Case {
  std::string name;
  Fn fn;
  std::vector<Domain> domains;  // one per input
};

Case U(std::string name, std::function<Tensor(const Tensor&)> f, Domain d = {}) {
  return {std::move(name), [f](const std::vector<Tensor>& in) { return f(in[0]); }, {d}};
}

constexpr Domain kPositive{0.3, 3};
constexpr Domain kNonZero{0.3, 1.5, true};
constexpr Domain kWide{-3, 3};

// Each UnaryOp through the public op that reaches it; several cases where its scalars matter.
std::map<UnaryOp, std::vector<Case>> UnaryCases() {
  using namespace diffvi;
  std::map<UnaryOp, std::vector<Case>> m;
  m[UnaryOp::identity] = {U("pow(x, 1)", [](const Tensor& x) { return pow(x, 1.0); })};
  m[UnaryOp::neg] = {U("neg", [](const Tensor& x) { return neg(x); })};
  m[UnaryOp::exp] = {U("exp", [](const Tensor& x) { return exp(x); })};
  m[UnaryOp::log] = {U(
      "log", [](const Tensor& x) { return log(x); }, kPositive)};
  m[UnaryOp::log1p] = {U("log1p", [](const Tensor& x) { return log1p(x); }, {-0.5, 2})};
  m[UnaryOp::expm1] = {U("expm1", [](const Tensor& x) { return expm1(x); })};
  m[UnaryOp::sqrt] = {U(
      "sqrt", [](const Tensor& x) { return sqrt(x); }, kPositive)};
  m[UnaryOp::rsqrt] = {U(
      "rsqrt", [](const Tensor& x) { return rsqrt(x); }, kPositive)};
  m[UnaryOp::abs] = {U(
      "abs", [](const Tensor& x) { return abs(x); }, kNonZero)};
  m[UnaryOp::sign] = {U(
      "sign", [](const Tensor& x) { return sign(x); }, kNonZero)};
  m[UnaryOp::square] = {U("square", [](const Tensor& x) { return square(x); })};
  m[UnaryOp::reciprocal] = {U(
      "reciprocal", [](const Tensor& x) { return reciprocal(x); }, kNonZero)};
  m[UnaryOp::sin] = {U(
      "sin", [](const Tensor& x) { return sin(x); }, kWide)};
  m[UnaryOp::cos] = {U(
      "cos", [](const Tensor& x) { return cos(x); }, kWide)};
  m[UnaryOp::tanh] = {U(
      "tanh", [](const Tensor& x) { return tanh(x); }, kWide)};
  m[UnaryOp::sigmoid] = {U(
      "sigmoid", [](const Tensor& x) { return sigmoid(x); }, kWide)};
  m[UnaryOp::softplus] = {U(
      "softplus", [](const Tensor& x) { return softplus(x); }, kWide)};
  m[UnaryOp::relu] = {U(
      "relu", [](const Tensor& x) { return relu(x); }, kNonZero)};
  m[UnaryOp::gelu_erf] = {U(
      "gelu", [](const Tensor& x) { return gelu(x); }, kWide)};
  m[UnaryOp::gelu_tanh] = {U(
      "gelu_tanh", [](const Tensor& x) { return gelu(x, GeluApprox::tanh); }, kWide)};
  m[UnaryOp::silu] = {U(
      "silu", [](const Tensor& x) { return silu(x); }, kWide)};
  m[UnaryOp::erf] = {U(
      "erf", [](const Tensor& x) { return erf(x); }, kWide)};
  m[UnaryOp::pow_scalar] = {
      U(
          "pow(x, 2.5)", [](const Tensor& x) { return pow(x, 2.5); }, kPositive),
      U(
          "pow(x, -1.5)", [](const Tensor& x) { return pow(x, -1.5); }, kPositive),
      U("pow(x, 3)", [](const Tensor& x) { return pow(x, 3.0); }),
      U("pow(x, 0)", [](const Tensor& x) { return pow(x, 0.0); })};
  m[UnaryOp::add_scalar] = {U("x + 0.7", [](const Tensor& x) { return add(x, 0.7); })};
  m[UnaryOp::mul_scalar] = {U("x * -1.3", [](const Tensor& x) { return mul(x, -1.3); })};
  m[UnaryOp::clamp] = {
      U("clamp(x, -0.5, 0.6)", [](const Tensor& x) { return clamp(x, -0.5, 0.6); }),
      U("clamp(x, 0.1, -)", [](const Tensor& x) { return clamp(x, 0.1, std::nullopt); }),
      U("clamp(x, -, 0.2)", [](const Tensor& x) { return clamp(x, std::nullopt, 0.2); })};
  m[UnaryOp::rsub_scalar] = {U("0.4 - x", [](const Tensor& x) { return rsub(0.4, x); })};
  m[UnaryOp::rdiv_scalar] = {U(
      "0.7 / x", [](const Tensor& x) { return rdiv(0.7, x); }, kNonZero)};
  return m;
}

// The differentiable BinaryOps; the comparisons must return a tensor outside the graph.
std::map<BinaryOp, std::vector<Case>> BinaryCases() {
  using namespace diffvi;
  auto B = [](std::string name, std::function<Tensor(const Tensor&, const Tensor&)> f,
              Domain dx = {}, Domain dy = {}) {
    return Case{
        std::move(name), [f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {dx, dy}};
  };
  std::map<BinaryOp, std::vector<Case>> m;
  m[BinaryOp::add] = {B("add", [](const Tensor& a, const Tensor& b) { return add(a, b); })};
  m[BinaryOp::sub] = {B("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); })};
  m[BinaryOp::mul] = {B("mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); })};
  m[BinaryOp::div] = {B(
      "div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, {}, kNonZero)};
  m[BinaryOp::pow] = {B(
      "pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, kPositive)};
  m[BinaryOp::maximum] = {
      B("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); })};
  m[BinaryOp::minimum] = {
      B("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); })};
  for (BinaryOp cmp :
       {BinaryOp::eq, BinaryOp::ne, BinaryOp::lt, BinaryOp::le, BinaryOp::gt, BinaryOp::ge}) {
    m[cmp] = {};  // not differentiable: checked by ComparisonsLeaveTheGraph
  }
  return m;
}

::testing::AssertionResult BothOrders(const Case& c, const std::string& backend, uint64_t seed) {
  std::vector<Tensor> in;
  for (const Domain& d : c.domains) in.push_back(Draw(d, {7}, seed++));
  diffvi::BackendGuard guard(backend);
  // A derivative detached from its inputs makes the outer grad() throw: report it as this case.
  try {
    const diffvi::GradcheckResult first = diffvi::gradcheck(c.fn, in);
    if (!first.ok) {
      return ::testing::AssertionFailure() << c.name << " [" << backend << "] " << first.message;
    }
    const diffvi::GradcheckResult second = diffvi::gradgradcheck(c.fn, in);
    if (!second.ok) {
      return ::testing::AssertionFailure() << c.name << " [" << backend << "] " << second.message;
    }
  } catch (const diffvi::Error& e) {
    return ::testing::AssertionFailure() << c.name << " [" << backend << "] threw: " << e.what();
  }
  return ::testing::AssertionSuccess();
}

TEST(Derivatives, EveryUnaryOpToSecondOrder) {
  const auto cases = UnaryCases();
  for (int i = 0; i < diffvi::kUnaryOpCount; ++i) {
    const auto op = static_cast<UnaryOp>(i);
    auto it = cases.find(op);
    if (it == cases.end() || it->second.empty()) {
      ADD_FAILURE() << "no derivative case for unary op " << diffvi::unary_name(op);
      continue;
    }
    uint64_t seed = 100 * static_cast<uint64_t>(i);
    for (const Case& c : it->second) {
      for (const char* backend : {"cpu", "reference"}) EXPECT_TRUE(BothOrders(c, backend, seed));
    }
  }
}

TEST(Derivatives, EveryBinaryOpToSecondOrder) {
  const auto cases = BinaryCases();
  for (int i = 0; i < diffvi::kBinaryOpCount; ++i) {
    const auto op = static_cast<BinaryOp>(i);
    auto it = cases.find(op);
    if (it == cases.end()) {
      ADD_FAILURE() << "no derivative case for binary op " << diffvi::binary_name(op);
      continue;
    }
    uint64_t seed = 1000 + 100 * static_cast<uint64_t>(i);
    for (const Case& c : it->second) {
      for (const char* backend : {"cpu", "reference"}) EXPECT_TRUE(BothOrders(c, backend, seed));
    }
  }
}

TEST(Derivatives, ComparisonsLeaveTheGraph) {
  const Tensor a = Draw({}, {5}, 1), b = Draw({}, {5}, 2);
  using Cmp = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<Cmp> cmps = {[](const Tensor& x, const Tensor& y) { return diffvi::eq(x, y); },
                                 [](const Tensor& x, const Tensor& y) { return diffvi::ne(x, y); },
                                 [](const Tensor& x, const Tensor& y) { return diffvi::lt(x, y); },
                                 [](const Tensor& x, const Tensor& y) { return diffvi::le(x, y); },
                                 [](const Tensor& x, const Tensor& y) { return diffvi::gt(x, y); },
                                 [](const Tensor& x, const Tensor& y) { return diffvi::ge(x, y); }};
  for (const Cmp& f : cmps) EXPECT_FALSE(f(a, b).requires_grad());
}

// Each activation alone and fused into linear (whose training path composes the two).
TEST(Derivatives, EveryActivationToSecondOrder) {
  for (int i = 0; i < diffvi::kActivationCount; ++i) {
    const auto act = static_cast<Activation>(i);
    const std::string name = "activation " + std::to_string(i);
    const Domain d = act == Activation::relu ? kNonZero : kWide;
    const Case alone{
        name, [act](const std::vector<Tensor>& in) { return diffvi::activation(in[0], act); }, {d}};
    // Pre-activations of x w^T + b land near 0 for relu only by chance: the seed keeps them off.
    const Fn fused = [act](const std::vector<Tensor>& in) {
      return diffvi::linear(in[0], diffvi::reshape(in[1], {2, 3}), in[2], act);
    };
    for (const char* backend : {"cpu", "reference"}) {
      EXPECT_TRUE(BothOrders(alone, backend, 7 + i));
      std::vector<Tensor> in = {testutil::Leaf(testutil::Uniform({4, 3}, 11, DType::f64)),
                                testutil::Leaf(testutil::Uniform({6}, 12, DType::f64)),
                                testutil::Leaf(testutil::Uniform({2}, 13, DType::f64))};
      diffvi::BackendGuard guard(backend);
      const diffvi::GradcheckResult r1 = diffvi::gradcheck(fused, in);
      EXPECT_TRUE(r1.ok) << name << " in linear [" << backend << "] " << r1.message;
      const diffvi::GradcheckResult r2 = diffvi::gradgradcheck(fused, in);
      EXPECT_TRUE(r2.ok) << name << " in linear [" << backend << "] " << r2.message;
    }
  }
}

// --- the figures of issue 19 ---------------------------------------------------------------------

// d/dx of f at x0 with create_graph, then d/dx of that: the second derivative.
double SecondDerivative(const std::function<Tensor(const Tensor&)>& f, double x0) {
  Tensor x = testutil::Leaf(diffvi::full({}, x0, diffvi::TensorOptions(DType::f64)));
  Tensor d1 = diffvi::grad({f(x)}, {x}, {.create_graph = true})[0];
  return diffvi::grad({d1}, {x})[0].item();
}

TEST(Derivatives, GeluTanhSecondDerivativeMatchesFiniteDifferences) {
  auto f = [](const Tensor& x) {
    return diffvi::add(diffvi::gelu(x, diffvi::GeluApprox::tanh), diffvi::pow(x, 3.0));
  };
  // Central differences of the first derivative, in closed form (scalar::unary_derivative).
  const double h = 1e-5, x0 = 0.4;
  auto d1 = [](double x) {
    return diffvi::scalar::unary_derivative<double>(UnaryOp::gelu_tanh, x, 0, 0) + 3 * x * x;
  };
  const double numeric = (d1(x0 + h) - d1(x0 - h)) / (2 * h);
  EXPECT_NEAR(numeric, 3.077, 1e-3);  // the finite-difference figure
  for (const char* backend : {"cpu", "reference"}) {
    diffvi::BackendGuard guard(backend);
    EXPECT_NEAR(SecondDerivative(f, x0), numeric, 1e-7) << backend;
  }
}

TEST(Derivatives, ClampUnderCreateGraphKeepsTheUpstreamGradient) {
  // L = y^2 clamp(x): dL/dx = y^2 inside the interval, and d/dy (dL/dx) = 2y.
  for (const char* backend : {"cpu", "reference"}) {
    diffvi::BackendGuard guard(backend);
    Tensor x = testutil::Leaf(diffvi::full({}, 0.3, diffvi::TensorOptions(DType::f64)));
    Tensor y = testutil::Leaf(diffvi::full({}, 3.0, diffvi::TensorOptions(DType::f64)));
    Tensor loss = diffvi::mul(diffvi::square(y), diffvi::clamp(x, -1.0, 1.0));
    Tensor dx = diffvi::grad({loss}, {x}, {.create_graph = true})[0];
    EXPECT_DOUBLE_EQ(dx.item(), 9.0) << backend;
    EXPECT_DOUBLE_EQ(diffvi::grad({dx}, {y})[0].item(), 6.0) << backend;
  }
}

TEST(Derivatives, PowZeroIsConstantUnderCreateGraph) {
  // d/dx (x^0 + x) at x = 0 is 1 with and without create_graph (not 0 * inf = NaN).
  for (const char* backend : {"cpu", "reference"}) {
    diffvi::BackendGuard guard(backend);
    for (bool create : {false, true}) {
      Tensor x = testutil::Leaf(diffvi::zeros({}, diffvi::TensorOptions(DType::f64)));
      Tensor y = diffvi::add(diffvi::pow(x, 0.0), x);
      EXPECT_DOUBLE_EQ(diffvi::grad({y}, {x}, {.create_graph = create})[0].item(), 1.0)
          << backend << " create_graph " << create;
    }
    // The same through the tensor pow with a zero exponent.
    Tensor x = testutil::Leaf(diffvi::zeros({}, diffvi::TensorOptions(DType::f64)));
    Tensor e = diffvi::zeros({}, diffvi::TensorOptions(DType::f64));
    Tensor y = diffvi::add(diffvi::pow(x, e), x);
    EXPECT_DOUBLE_EQ(diffvi::grad({y}, {x}, {.create_graph = true})[0].item(), 1.0) << backend;
  }
}

TEST(Derivatives, CreateGraphRetainsTheGraphByDefault) {
  // Without retain_graph, create_graph used to free the graph the derivative points into.
  using F = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<std::string, F>> fs = {
      {"exp", [](const Tensor& x) { return diffvi::exp(x); }},
      {"tanh", [](const Tensor& x) { return diffvi::tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return diffvi::sigmoid(x); }},
      {"sqrt", [](const Tensor& x) { return diffvi::sqrt(x); }},
      {"reciprocal", [](const Tensor& x) { return diffvi::reciprocal(x); }},
      {"x * x", [](const Tensor& x) { return diffvi::mul(x, x); }},
      {"1 / x", [](const Tensor& x) { return diffvi::div(diffvi::ones_like(x), x); }}};
  const double x0 = 0.7, h = 1e-5;
  for (const auto& [name, f] : fs) {
    auto first = [&](double v) {
      Tensor x = testutil::Leaf(diffvi::full({}, v, diffvi::TensorOptions(DType::f64)));
      return diffvi::grad({f(x)}, {x})[0].item();
    };
    const double numeric = (first(x0 + h) - first(x0 - h)) / (2 * h);
    double analytic = 0;
    ASSERT_NO_THROW(analytic = SecondDerivative(f, x0)) << name;
    EXPECT_NEAR(analytic, numeric, 1e-6 * (1 + std::abs(numeric))) << name;
    // backward() follows the same default.
    Tensor x = testutil::Leaf(diffvi::full({}, x0, diffvi::TensorOptions(DType::f64)));
    Tensor d1 = diffvi::grad({f(x)}, {x}, {.create_graph = true})[0];
    EXPECT_NO_THROW(diffvi::backward(d1)) << name;
    EXPECT_NEAR(x.grad().item(), numeric, 1e-6 * (1 + std::abs(numeric))) << name;
  }
}

// A random-chain Hessian-vector-product probe, as the issue's: chains of unary ops and products
// (every unary op can appear), HVP by double backward against finite differences of gradients.
TEST(Derivatives, RandomChainsHaveCorrectHessianVectorProducts) {
  const auto cases = UnaryCases();
  std::vector<const Case*> smooth;  // ops whose inputs can be any value in [-1, 1] after a squash
  for (const auto& [op, list] : cases) {
    for (const Case& c : list) {
      if (c.domains[0].either_sign || c.domains[0].lo > -1) continue;  // poles and kinks
      smooth.push_back(&c);
    }
  }
  diffvi::Generator gen(5);
  int wrong = 0;
  const int chains = 60;
  for (int n = 0; n < chains; ++n) {
    const std::vector<double> pick =
        diffvi::uniform({4}, 0, 1, gen, diffvi::TensorOptions(DType::f64)).to_vector<double>();
    auto chain = [&](const std::vector<Tensor>& in) {
      // tanh keeps each stage's input in [-1, 1], inside every smooth op's domain.
      Tensor h = in[0];
      for (double p : pick) {
        const Case* c = smooth[static_cast<size_t>(p * smooth.size()) % smooth.size()];
        h = diffvi::mul(c->fn({diffvi::tanh(h)}), in[0]);
      }
      return h;
    };
    std::vector<Tensor> in = {testutil::Leaf(testutil::Uniform({3}, 300 + n, DType::f64))};
    if (!diffvi::gradgradcheck(chain, in, {.atol = 1e-5, .rtol = 1e-4}).ok) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << wrong << " of " << chains << " chains had a wrong HVP";
}

}  // namespace
