// Shape ops (views share storage; copies do not): values by index arithmetic, exact CPU-vs-
// reference parity after materialising (the copy kernel is overridden by the CPU backend),
// backward parity and f64 gradcheck on both backends.
#include <gtest/gtest.h>

#include <functional>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;
using testutil::Equal;

namespace {

Tensor Iota(const Shape& shape, DType dt = DType::f64) {
  return diffvi::reshape(diffvi::arange(static_cast<double>(diffvi::numel(shape)), dt), shape);
}

// Weights each piece differently so a gradient routed to the wrong piece is caught.
Tensor Weighted(const std::vector<Tensor>& parts, int64_t dim) {
  std::vector<Tensor> scaled;
  for (size_t i = 0; i < parts.size(); ++i) {
    scaled.push_back(diffvi::mul(parts[i], static_cast<double>(i + 1)));
  }
  return diffvi::cat(scaled, dim);
}

struct ShapeCase {
  const char* name;
  Shape input;
  std::function<Tensor(const Tensor&)> fn;
};

const std::vector<ShapeCase>& Cases() {
  static const std::vector<ShapeCase> cases = {
      {"reshape",
       {2, 3, 4},
       [](const Tensor& x) {
         return diffvi::reshape(x, {4, -1});
       }},
      {"reshape_to_scalar", {1, 1}, [](const Tensor& x) { return diffvi::reshape(x, {}); }},
      {"view",
       {2, 3, 4},
       [](const Tensor& x) {
         return diffvi::view(diffvi::contiguous(x), {6, 4});
       }},
      {"flatten", {2, 3, 4}, [](const Tensor& x) { return diffvi::flatten(x, 1); }},
      {"flatten_all", {2, 3, 4}, [](const Tensor& x) { return diffvi::flatten(x); }},
      {"transpose", {2, 3, 4}, [](const Tensor& x) { return diffvi::transpose(x, 0, -1); }},
      {"permute",
       {2, 3, 4},
       [](const Tensor& x) {
         return diffvi::permute(x, {2, 0, 1});
       }},
      {"squeeze_all", {3, 1, 4, 1}, [](const Tensor& x) { return diffvi::squeeze(x); }},
      {"squeeze_dim", {3, 1, 4, 1}, [](const Tensor& x) { return diffvi::squeeze(x, 1); }},
      {"unsqueeze", {3, 4}, [](const Tensor& x) { return diffvi::unsqueeze(x, 1); }},
      {"unsqueeze_last", {3, 4}, [](const Tensor& x) { return diffvi::unsqueeze(x, -1); }},
      {"expand",
       {3, 1},
       [](const Tensor& x) {
         return diffvi::expand(x, {2, 3, 4});
       }},
      {"expand_keep",
       {3, 1},
       [](const Tensor& x) {
         return diffvi::expand(x, {-1, 5});
       }},
      {"broadcast_to",
       {1, 4},
       [](const Tensor& x) {
         return diffvi::broadcast_to(x, {3, 4});
       }},
      {"slice", {5, 6}, [](const Tensor& x) { return diffvi::slice(x, 1, 1, 6, 2); }},
      {"slice_negative", {5, 6}, [](const Tensor& x) { return diffvi::slice(x, 0, -3, 5); }},
      {"slice_empty", {5, 6}, [](const Tensor& x) { return diffvi::slice(x, 0, 3, 3); }},
      {"narrow", {5, 6}, [](const Tensor& x) { return diffvi::narrow(x, 0, 1, 3); }},
      {"select", {4, 5}, [](const Tensor& x) { return diffvi::select(x, 1, 2); }},
      {"select_negative", {4, 5}, [](const Tensor& x) { return diffvi::select(x, 0, -1); }},
      {"cat",
       {3, 4},
       [](const Tensor& x) {
         return diffvi::cat({x, diffvi::mul(x, 2.0), diffvi::slice(x, 0, 0, 1)}, 0);
       }},
      {"cat_dim1",
       {3, 4},
       [](const Tensor& x) {
         return diffvi::cat({diffvi::mul(x, 3.0), x}, -1);
       }},
      {"cat_with_empty",
       {3, 4},
       [](const Tensor& x) {
         return diffvi::cat({diffvi::slice(x, 1, 0, 0), x}, 1);
       }},
      {"stack",
       {3, 4},
       [](const Tensor& x) {
         return diffvi::stack({x, diffvi::mul(x, 2.0)}, 1);
       }},
      {"stack_last",
       {3, 4},
       [](const Tensor& x) {
         return diffvi::stack({x, x}, -1);
       }},
      {"split_size", {7, 2}, [](const Tensor& x) { return Weighted(diffvi::split(x, 3, 0), 0); }},
      {"split_sizes",
       {2, 7},
       [](const Tensor& x) {
         return Weighted(diffvi::split(x, std::vector<int64_t>{1, 4, 2}, 1), 1);
       }},
      {"chunk", {7, 3}, [](const Tensor& x) { return Weighted(diffvi::chunk(x, 3, 0), 0); }},
      {"contiguous", {3, 4}, [](const Tensor& x) { return diffvi::contiguous(x); }},
      {"clone", {3, 4}, [](const Tensor& x) { return diffvi::clone(x); }},
      {"operator_chain",
       {2, 3},
       [](const Tensor& x) {
         return diffvi::reshape(diffvi::transpose(diffvi::unsqueeze(x, 0), 1, 2), {3, 2});
       }},
  };
  return cases;
}

// Names the case in test listings instead of dumping its bytes.
void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }

class ShapeOpTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ShapeOpTest, BackendsMatchReferenceExactly) {
  const ShapeCase& c = GetParam();
  const Tensor x = testutil::Uniform(c.input, 1);
  for (const Tensor& in : {x, testutil::TransposedCopy(x), testutil::StridedCopy(x)}) {
    EXPECT_TRUE(
        testutil::BackendsMatchReference([&] { return diffvi::contiguous(c.fn(in)); }, 0, 0))
        << c.name;
    // The op must not depend on the input's layout, only its values.
    EXPECT_TRUE(Equal(c.fn(in), c.fn(x))) << c.name;
  }
  EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
      [&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x}, 0, 0))
      << c.name;
}

TEST_P(ShapeOpTest, Gradcheck) {
  const ShapeCase& c = GetParam();
  const Tensor x = testutil::Leaf(testutil::Uniform(c.input, 2, DType::f64));
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                   std::vector<Tensor>{x});
}

INSTANTIATE_TEST_SUITE_P(Ops, ShapeOpTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<ShapeCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(ShapeOps, ValuesByIndexArithmetic) {
  const Tensor x = Iota({2, 3, 4});  // x[i, j, k] = 12i + 4j + k
  const std::vector<double> p = diffvi::permute(x, {2, 0, 1}).to_vector<double>();
  // permute -> [4, 2, 3]: p[k, i, j] = x[i, j, k].
  EXPECT_EQ(p[(3 * 2 + 1) * 3 + 2], 12 * 1 + 4 * 2 + 3);
  EXPECT_EQ(diffvi::select(x, 1, 2).to_vector<double>(),
            (std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_EQ(diffvi::slice(x, 2, 1, 4, 2).to_vector<double>(),
            (std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  EXPECT_EQ(diffvi::narrow(x, 0, 1, 1).shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(diffvi::flatten(x, 0, 1).shape(), (Shape{6, 4}));
  const Tensor a = Iota({2, 2}), b = diffvi::add(Iota({2, 2}), 10.0);
  EXPECT_EQ(diffvi::cat({a, b}, 1).to_vector<double>(),
            (std::vector<double>{0, 1, 10, 11, 2, 3, 12, 13}));
  EXPECT_EQ(diffvi::stack({a, b}, 0).shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(diffvi::stack({a, b}, 2).to_vector<double>(),
            (std::vector<double>{0, 10, 1, 11, 2, 12, 3, 13}));
  const std::vector<Tensor> parts = diffvi::split(Iota({7}), 3);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2].to_vector<double>(), (std::vector<double>{6}));
  const std::vector<Tensor> chunks = diffvi::chunk(Iota({5}), 2);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].to_vector<double>(), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(chunks[1].to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_EQ(diffvi::split(Iota({4, 2}), std::vector<int64_t>{1, 3})[1].shape(), (Shape{3, 2}));
}

TEST(ShapeOps, ViewsShareStorageAndCopiesDoNot) {
  const Tensor x = Iota({4, 6});
  for (const Tensor& v :
       {diffvi::reshape(x, {6, 4}), diffvi::view(x, {24}), diffvi::transpose(x, 0, 1),
        diffvi::permute(x, {1, 0}), diffvi::unsqueeze(x, 0), diffvi::squeeze(x),
        diffvi::slice(x, 1, 2, 4), diffvi::narrow(x, 0, 1, 2), diffvi::select(x, 0, 3),
        diffvi::expand(diffvi::unsqueeze(x, 0), {3, 4, 6}), diffvi::split(x, 2)[1],
        diffvi::chunk(x, 2, 1)[0], diffvi::detach(x)}) {
    EXPECT_EQ(v.impl()->storage, x.impl()->storage);
  }
  for (const Tensor& c :
       {diffvi::clone(x), diffvi::contiguous(diffvi::transpose(x, 0, 1)), diffvi::cat({x, x}),
        diffvi::stack({x}), diffvi::reshape(diffvi::transpose(x, 0, 1), {24}),
        diffvi::to(x, DType::f32)}) {
    EXPECT_NE(c.impl()->storage, x.impl()->storage);
  }
}

TEST(ShapeOps, ToDtypeConvertsAndBackpropagatesAcrossDtypes) {
  const Tensor x = testutil::Leaf(testutil::Uniform({3}, 5, DType::f64));
  const Tensor y = diffvi::to(x, DType::f32);
  EXPECT_EQ(y.dtype(), DType::f32);
  EXPECT_TRUE(AllClose(y, diffvi::from_vector(x.to_vector<float>(), {3}), 0, 0));
  diffvi::backward(diffvi::sum(diffvi::mul(y, 3.0)));
  EXPECT_EQ(x.grad().dtype(), DType::f64);
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(3, 3.0));
  EXPECT_TRUE(diffvi::to(x, diffvi::Device::cpu()).requires_grad());
}

TEST(ShapeOps, SizeZeroAndSizeOneDims) {
  const Tensor e = diffvi::zeros({0, 3});
  EXPECT_EQ(diffvi::transpose(e, 0, 1).shape(), (Shape{3, 0}));
  EXPECT_EQ(diffvi::cat({e, diffvi::ones({2, 3})}, 0).shape(), (Shape{2, 3}));
  EXPECT_EQ(diffvi::stack({e, e}).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(diffvi::expand(diffvi::zeros({1, 3}), {0, 3}).shape(), (Shape{0, 3}));
  EXPECT_EQ(diffvi::squeeze(diffvi::zeros({1, 1, 1})).shape(), Shape{});
  EXPECT_EQ(diffvi::reshape(e, {3, -1, 5}).shape(), (Shape{3, 0, 5}));
  // Backward through size-0 pieces.
  Tensor x = testutil::Leaf(testutil::Uniform({2, 3}, 1, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::cat({diffvi::slice(x, 0, 0, 0), x}, 0)));
  EXPECT_EQ(x.grad().to_vector<double>(), std::vector<double>(6, 1.0));
}

TEST(ShapeOps, DetachSharesDataWithoutHistory) {
  Tensor x = testutil::Leaf(testutil::Uniform({3}, 1, DType::f64));
  Tensor y = diffvi::mul(x, 2.0);
  Tensor d = diffvi::detach(y);
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_EQ(d.impl()->storage, y.impl()->storage);
  EXPECT_TRUE(Equal(d, y));
}

}  // namespace
