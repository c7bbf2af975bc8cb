// index_select, gather, scatter_add and one_hot: values against hand-computed results (f64,
// reference backend), CPU-vs-reference parity with strided inputs, f64 gradcheck on both backends
// (repeated indices make the backward accumulate, which is what we want to check).
#include <gtest/gtest.h>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using testutil::AllClose;
using testutil::Equal;

namespace {

Tensor Index(const std::vector<int64_t>& v, const Shape& shape) {
  return diffvi::from_vector(v, shape);
}
Tensor Iota(const Shape& shape, DType dt = DType::f64) {
  return diffvi::reshape(diffvi::arange(static_cast<double>(diffvi::numel(shape)), dt), shape);
}

TEST(IndexSelect, ValuesParityAndGradcheck) {
  const Tensor x = Iota({3, 4});
  EXPECT_EQ(testutil::OnBackend("reference",
                                [&] {
                                  return diffvi::index_select(x, 1, Index({3, 0, 3}, {3}));
                                })
                .to_vector<double>(),
            (std::vector<double>{3, 0, 3, 7, 4, 7, 11, 8, 11}));
  EXPECT_EQ(diffvi::index_select(x, 0, Index({2}, {1})).to_vector<double>(),
            (std::vector<double>{8, 9, 10, 11}));
  EXPECT_EQ(diffvi::index_select(x, 0, Index({}, {0})).shape(), (Shape{0, 4}));
  const Tensor xf = testutil::Uniform({5, 6}, 1);
  const Tensor idx = Index({4, 1, 1, 0}, {4});
  for (const Tensor& in : {xf, testutil::TransposedCopy(xf), testutil::StridedCopy(xf)}) {
    for (int64_t dim : {0, 1, -1}) {
      EXPECT_TRUE(testutil::BackendsMatchReference(
          [&] { return diffvi::index_select(in, dim, idx); }, 0, 0));
    }
  }
  EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
      [&](const std::vector<Tensor>& in) { return diffvi::index_select(in[0], 1, idx); }, {xf}));
  const Tensor leaf = testutil::Leaf(testutil::Uniform({3, 4}, 2, DType::f64));
  for (int64_t dim : {0, 1}) {
    EXPECT_GRADCHECK(
        [&](const std::vector<Tensor>& in) {
          return diffvi::index_select(in[0], dim, Index({2, 0, 2}, {3}));
        },
        std::vector<Tensor>{leaf});
  }
}

TEST(Gather, ValuesParityAndGradcheck) {
  const Tensor x = Iota({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  const Tensor idx = Index({2, 2, 0, 1, 0, 0}, {2, 3});
  EXPECT_EQ(testutil::OnBackend("reference", [&] { return diffvi::gather(x, 1, idx); })
                .to_vector<double>(),
            (std::vector<double>{2, 2, 0, 4, 3, 3}));
  // dim 0 with an index smaller than the input in the other dim.
  EXPECT_EQ(diffvi::gather(x, 0, Index({1, 0}, {1, 2})).to_vector<double>(),
            (std::vector<double>{3, 1}));
  const Tensor xf = testutil::Uniform({4, 5}, 3);
  const Tensor gi = Index({0, 4, 4, 1, 2, 3, 3, 0, 1, 1, 1, 1}, {4, 3});
  for (const Tensor& in : {xf, testutil::TransposedCopy(xf), testutil::StridedCopy(xf)}) {
    EXPECT_TRUE(testutil::BackendsMatchReference([&] { return diffvi::gather(in, 1, gi); }, 0, 0));
  }
  EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
      [&](const std::vector<Tensor>& in) { return diffvi::gather(in[0], 1, gi); }, {xf}));
  const Tensor leaf = testutil::Leaf(testutil::Uniform({2, 3}, 4, DType::f64));
  EXPECT_GRADCHECK([&](const std::vector<Tensor>& in) { return diffvi::gather(in[0], 1, idx); },
                   std::vector<Tensor>{leaf});
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return diffvi::gather(in[0], 0, Index({1, 1, 0, 0, 1, 1}, {2, 3}));
      },
      std::vector<Tensor>{leaf});
}

TEST(ScatterAdd, ValuesParityAndGradcheck) {
  const Tensor x = diffvi::zeros({2, 4}, DType::f64);
  const Tensor idx = Index({0, 3, 0, 1, 1, 1}, {2, 3});
  const Tensor src = Iota({2, 3});
  EXPECT_EQ(testutil::OnBackend("reference", [&] { return diffvi::scatter_add(x, 1, idx, src); })
                .to_vector<double>(),
            (std::vector<double>{2, 0, 0, 1, 0, 12, 0, 0}));
  // Not in place: x is unchanged.
  EXPECT_EQ(x.to_vector<double>(), std::vector<double>(8, 0.0));
  const Tensor xf = testutil::Uniform({3, 5}, 5), sf = testutil::Uniform({3, 4}, 6);
  const Tensor si = Index({4, 4, 0, 1, 2, 2, 2, 2, 0, 1, 3, 4}, {3, 4});
  for (const Tensor& in : {xf, testutil::TransposedCopy(xf)}) {
    for (const Tensor& s : {sf, testutil::StridedCopy(sf)}) {
      EXPECT_TRUE(
          testutil::BackendsMatchReference([&] { return diffvi::scatter_add(in, 1, si, s); }));
    }
  }
  EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
      [&](const std::vector<Tensor>& in) { return diffvi::scatter_add(in[0], 1, si, in[1]); },
      {xf, sf}));
  const Tensor lx = testutil::Leaf(testutil::Uniform({2, 4}, 7, DType::f64));
  const Tensor ls = testutil::Leaf(testutil::Uniform({2, 3}, 8, DType::f64));
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) { return diffvi::scatter_add(in[0], 1, idx, in[1]); },
      (std::vector<Tensor>{lx, ls}));
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return diffvi::scatter_add(in[0], 0, Index({1, 1, 0}, {1, 3}), in[1]);
      },
      (std::vector<Tensor>{testutil::Leaf(testutil::Uniform({2, 3}, 9, DType::f64)),
                           testutil::Leaf(testutil::Uniform({1, 3}, 10, DType::f64))}));
}

TEST(OneHot, ValuesAndDtype) {
  const Tensor idx = Index({2, 0, 1, 2}, {2, 2});
  for (const std::string& backend : testutil::HostBackends()) {
    diffvi::BackendGuard guard(backend);
    const Tensor h = diffvi::one_hot(idx, 3);
    EXPECT_EQ(h.shape(), (Shape{2, 2, 3}));
    EXPECT_EQ(h.dtype(), DType::f32);
    EXPECT_EQ(h.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1}));
    EXPECT_EQ(diffvi::one_hot(Index({1}, {1}), 2, DType::f64).to_vector<double>(),
              (std::vector<double>{0, 1}));
    EXPECT_EQ(diffvi::one_hot(Index({}, {0}), 4).shape(), (Shape{0, 4}));
  }
  // Useful as a differentiable selector: sum(one_hot * logits) picks the labelled logits.
  const Tensor logits = testutil::Leaf(testutil::Uniform({4, 3}, 1, DType::f64));
  EXPECT_GRADCHECK(
      [&](const std::vector<Tensor>& in) {
        return diffvi::sum(diffvi::mul(diffvi::one_hot(Index({0, 2, 2, 1}, {4}), 3, DType::f64),
                                       diffvi::log_softmax(in[0], 1)),
                           {1});
      },
      std::vector<Tensor>{logits});
}

TEST(Indexing, IndexTensorsDoNotRequireGradAndOutputsDo) {
  const Tensor x = testutil::Leaf(testutil::Uniform({3, 4}, 1, DType::f64));
  const Tensor y = diffvi::index_select(x, 0, Index({0, 0}, {2}));
  EXPECT_TRUE(y.requires_grad());
  diffvi::backward(diffvi::sum(y));
  EXPECT_EQ(x.grad().to_vector<double>(),
            (std::vector<double>{2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0}));
}

}  // namespace
