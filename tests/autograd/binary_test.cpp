// Binary ops with NumPy broadcasting: f32 CPU-vs-reference parity (forward and backward) over
// broadcast shape pairs and strided layouts, f64 closed forms, f64 gradcheck on both backends
// (gradients of broadcast operands are summed back to the operand's shape).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;

namespace {

enum class YDomain { kAny, kAwayFromZero };

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  std::function<double(double, double)> closed_form;
  bool x_positive;  // pow needs a positive base
  YDomain y_domain;
};

const std::vector<BinaryCase>& Cases() {
  static const std::vector<BinaryCase> cases = {
      {"add", [](const Tensor& x, const Tensor& y) { return diffvi::add(x, y); },
       [](double x, double y) { return x + y; }, false, YDomain::kAny},
      {"sub", [](const Tensor& x, const Tensor& y) { return diffvi::sub(x, y); },
       [](double x, double y) { return x - y; }, false, YDomain::kAny},
      {"mul", [](const Tensor& x, const Tensor& y) { return diffvi::mul(x, y); },
       [](double x, double y) { return x * y; }, false, YDomain::kAny},
      {"div", [](const Tensor& x, const Tensor& y) { return diffvi::div(x, y); },
       [](double x, double y) { return x / y; }, false, YDomain::kAwayFromZero},
      {"pow", [](const Tensor& x, const Tensor& y) { return diffvi::pow(x, y); },
       [](double x, double y) { return std::pow(x, y); }, true, YDomain::kAny},
      {"maximum", [](const Tensor& x, const Tensor& y) { return diffvi::maximum(x, y); },
       [](double x, double y) { return std::max(x, y); }, false, YDomain::kAny},
      {"minimum", [](const Tensor& x, const Tensor& y) { return diffvi::minimum(x, y); },
       [](double x, double y) { return std::min(x, y); }, false, YDomain::kAny},
      {"operators", [](const Tensor& x, const Tensor& y) { return (x + y) * x - y / (x * x + 1); },
       [](double x, double y) { return (x + y) * x - y / (x * x + 1); }, false, YDomain::kAny},
  };
  return cases;
}

Tensor X(const Shape& s, const BinaryCase& c, uint64_t seed, DType dt) {
  return c.x_positive ? testutil::Uniform(s, seed, dt, 0.2, 2.0)
                      : testutil::Uniform(s, seed, dt, -2.0, 2.0);
}
Tensor Y(const Shape& s, const BinaryCase& c, uint64_t seed, DType dt) {
  return c.y_domain == YDomain::kAwayFromZero ? testutil::AwayFromZero(s, seed, dt, 0.3, 2.0)
                                              : testutil::Uniform(s, seed, dt, -2.0, 2.0);
}

// Broadcasting pairs: equal shapes, trailing-dim vectors, outer products, rank-0, size-0 and
// size-1 dims, and sizes past the vector width.
const std::vector<std::pair<Shape, Shape>> kPairs = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}},         {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},
    {{}, {2, 3}},     {{2, 3}, {}},          {{0, 3}, {1, 3}}, {{5, 1, 0}, {5, 2, 1}},
    {{1}, {1}},       {{1, 1, 6}, {5, 1}},   {{64, 33}, {33}}, {{64, 33}, {64, 1}},
    {{129}, {129}},   {{7, 1, 9}, {1, 8, 1}}};

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const BinaryCase& c, std::ostream* os) { *os << c.name; }

class BinaryTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryTest, BackendsMatchReferenceF32) {
  const BinaryCase& c = GetParam();
  uint64_t seed = 1;
  for (const auto& [sx, sy] : kPairs) {
    const Tensor x = X(sx, c, seed++, DType::f32), y = Y(sy, c, seed++, DType::f32);
    for (const Tensor& xv : {x, testutil::TransposedCopy(x)}) {
      for (const Tensor& yv : {y, testutil::StridedCopy(y)}) {
        EXPECT_TRUE(testutil::BackendsMatchReference([&] { return c.fn(xv, yv); }))
            << c.name << " " << diffvi::shape_str(sx) << " and " << diffvi::shape_str(sy);
      }
    }
  }
}

TEST_P(BinaryTest, BackwardBackendsMatchReferenceF32) {
  const BinaryCase& c = GetParam();
  uint64_t seed = 50;
  for (const auto& [sx, sy] : kPairs) {
    const Tensor x = X(sx, c, seed++, DType::f32), y = Y(sy, c, seed++, DType::f32);
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); }, {x, y}))
        << c.name << " " << diffvi::shape_str(sx) << " and " << diffvi::shape_str(sy);
  }
}

TEST_P(BinaryTest, ReferenceF64MatchesClosedFormWithBroadcast) {
  const BinaryCase& c = GetParam();
  const Tensor x = X({3, 1}, c, 3, DType::f64), y = Y({4}, c, 4, DType::f64);
  const Tensor out = testutil::OnBackend("reference", [&] { return c.fn(x, y); });
  const std::vector<double> xv = x.to_vector<double>(), yv = y.to_vector<double>();
  std::vector<double> want;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) want.push_back(c.closed_form(xv[i], yv[j]));
  }
  EXPECT_TRUE(AllClose(out, diffvi::from_vector(want, {3, 4}, DType::f64), 1e-12, 1e-12));
}

TEST_P(BinaryTest, Gradcheck) {
  const BinaryCase& c = GetParam();
  auto f = [&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); };
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{3, 1}, {1, 2}}, {{}, {2, 2}}, {{2, 1, 3}, {2, 1}}};
  uint64_t seed = 20;
  for (const auto& [sx, sy] : pairs) {
    const Tensor x = testutil::Leaf(X(sx, c, seed++, DType::f64));
    const Tensor y = testutil::Leaf(Y(sy, c, seed++, DType::f64));
    EXPECT_GRADCHECK(f, (std::vector<Tensor>{x, y}));
  }
  // The same tensor as both operands, and one operand not requiring grad.
  const Tensor x = testutil::Leaf(X({2, 2}, c, 40, DType::f64));
  const Tensor k = Y({2, 2}, c, 41, DType::f64);
  if (c.y_domain == YDomain::kAny && !c.x_positive) {
    EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0], in[0]); },
                     std::vector<Tensor>{x});
  }
  EXPECT_GRADCHECK(f, (std::vector<Tensor>{x, k}));
}

INSTANTIATE_TEST_SUITE_P(Ops, BinaryTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BinaryCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(Binary, ScalarOperandsMatchTensorOperands) {
  const Tensor x = testutil::Uniform({3, 5}, 9, DType::f64, 0.5, 2.0);
  const Tensor two = diffvi::scalar_tensor(2.0, DType::f64);
  EXPECT_TRUE(AllClose(diffvi::add(x, 2.0), x + two, 0, 0));
  EXPECT_TRUE(AllClose(diffvi::sub(x, 2.0), x - two, 0, 0));
  EXPECT_TRUE(AllClose(diffvi::mul(x, 2.0), x * two, 0, 0));
  EXPECT_TRUE(AllClose(diffvi::div(x, 2.0), x / two, 1e-15, 0));
  EXPECT_TRUE(AllClose(diffvi::rsub(2.0, x), two - x, 0, 0));
  EXPECT_TRUE(AllClose(diffvi::rdiv(2.0, x), two / x, 1e-15, 0));
  EXPECT_TRUE(AllClose(2.0 / x, two / x, 1e-15, 0));
  EXPECT_TRUE(AllClose(2.0 + x, two + x, 0, 0));
}

TEST(Binary, MaximumSplitsGradientAtTies) {
  Tensor x = testutil::Leaf(diffvi::tensor({1, 2, 3}, DType::f64));
  Tensor y = testutil::Leaf(diffvi::tensor({1, 5, 0}, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::maximum(x, y)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, 0, 1}));
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.5, 1, 0}));
  x.set_grad(Tensor());
  y.set_grad(Tensor());
  diffvi::backward(diffvi::sum(diffvi::minimum(x, y)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.5, 1, 0}));
  EXPECT_EQ(y.grad().to_vector<double>(), (std::vector<double>{0.5, 0, 1}));
}

// --- where ---------------------------------------------------------------------------------------

TEST(Where, BackendsMatchReferenceF32) {
  const std::vector<std::array<Shape, 3>> shapes = {{Shape{4, 5}, Shape{4, 5}, Shape{4, 5}},
                                                    {Shape{4, 1}, Shape{5}, Shape{}},
                                                    {Shape{3, 1, 2}, Shape{1, 4, 1}, Shape{2}},
                                                    {Shape{0, 2}, Shape{2}, Shape{1, 2}},
                                                    {Shape{70}, Shape{70}, Shape{1}}};
  uint64_t seed = 1;
  for (const auto& s : shapes) {
    const Tensor cond = diffvi::gt(testutil::Uniform(s[0], seed++), diffvi::zeros({}));
    const Tensor x = testutil::Uniform(s[1], seed++), y = testutil::Uniform(s[2], seed++);
    for (const Tensor& xv : {x, testutil::StridedCopy(x)}) {
      EXPECT_TRUE(testutil::BackendsMatchReference([&] { return diffvi::where(cond, xv, y); }))
          << diffvi::shape_str(s[0]);
      EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
          [&](const std::vector<Tensor>& in) { return diffvi::where(cond, in[0], in[1]); },
          {xv, y}));
    }
  }
}

TEST(Where, ValuesAndGradcheck) {
  const Tensor cond = diffvi::tensor({1, 0, 0, 1}, DType::f64);
  const Tensor x = testutil::Leaf(diffvi::tensor({1, 2, 3, 4}, DType::f64));
  const Tensor y = testutil::Leaf(diffvi::tensor({-1, -2, -3, -4}, DType::f64));
  EXPECT_EQ(diffvi::where(cond, x, y).to_vector<double>(), (std::vector<double>{1, -2, -3, 4}));
  // A mask in another dtype selects too (nonzero is true).
  EXPECT_EQ(diffvi::where(diffvi::tensor({0, 2.5, 0, -1}), diffvi::raw::to(x, DType::f32),
                          diffvi::raw::to(y, DType::f32))
                .to_vector<double>(),
            (std::vector<double>{-1, 2, -3, 4}));
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return diffvi::where(diffvi::reshape(cond, {4, 1}), in[0], in[1]);
      },
      (std::vector<Tensor>{x, testutil::Leaf(testutil::Uniform({3, 1, 4}, 5, DType::f64))}));
}

// --- comparisons ---------------------------------------------------------------------------------

TEST(Compare, ValuesParityAndNoGradient) {
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&, const Tensor&)>>>
      ops = {{"eq", [](const Tensor& a, const Tensor& b) { return diffvi::eq(a, b); }},
             {"ne", [](const Tensor& a, const Tensor& b) { return diffvi::ne(a, b); }},
             {"lt", [](const Tensor& a, const Tensor& b) { return diffvi::lt(a, b); }},
             {"le", [](const Tensor& a, const Tensor& b) { return diffvi::le(a, b); }},
             {"gt", [](const Tensor& a, const Tensor& b) { return diffvi::gt(a, b); }},
             {"ge", [](const Tensor& a, const Tensor& b) { return diffvi::ge(a, b); }}};
  const std::vector<std::function<bool(double, double)>> truth = {
      [](double a, double b) { return a == b; }, [](double a, double b) { return a != b; },
      [](double a, double b) { return a < b; },  [](double a, double b) { return a <= b; },
      [](double a, double b) { return a > b; },  [](double a, double b) { return a >= b; }};
  // Integers 0..2, so ties (where eq/le/ge differ from lt/gt) are common.
  auto ints = [](const Tensor& t) {
    std::vector<double> v = t.to_vector<double>();
    for (double& e : v) e = std::floor(e);
    return diffvi::from_vector(v, t.shape());
  };
  const Tensor a = ints(testutil::Uniform({6, 7}, 1, DType::f32, 0, 3));
  const Tensor b = ints(testutil::Uniform({7}, 2, DType::f32, 0, 3));
  for (size_t k = 0; k < ops.size(); ++k) {
    EXPECT_TRUE(testutil::BackendsMatchReference([&] { return ops[k].second(a, b); }, 0, 0))
        << ops[k].first;
    EXPECT_TRUE(testutil::BackendsMatchReference(
        [&] { return ops[k].second(testutil::TransposedCopy(a), a); }, 0, 0))
        << ops[k].first;
    const std::vector<double> r = ops[k].second(a, b).to_vector<double>();
    const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
    for (int i = 0; i < 42; ++i) {
      ASSERT_EQ(r[i], truth[k](av[i], bv[i % 7]) ? 1.0 : 0.0) << ops[k].first << " " << i;
    }
    // Never differentiable, even with inputs that require grad.
    Tensor leaf = testutil::Leaf(a);
    Tensor out = ops[k].second(leaf, b);
    EXPECT_FALSE(out.requires_grad()) << ops[k].first;
    EXPECT_EQ(out.dtype(), DType::f32);
  }
}

}  // namespace
