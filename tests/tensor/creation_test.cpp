// Creation functions: values, dtypes, requires_grad and the errors they raise.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using diffvi::TensorOptions;

TEST(Creation, ZerosOnesFull) {
  Tensor z = diffvi::zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.dtype(), DType::f32);
  EXPECT_TRUE(z.is_contiguous());
  EXPECT_EQ(z.to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(diffvi::ones({4}, DType::f64).to_vector<double>(), std::vector<double>(4, 1.0));
  EXPECT_EQ(diffvi::full({2, 2}, -2.5, DType::f64).to_vector<double>(),
            std::vector<double>(4, -2.5));
  EXPECT_EQ(diffvi::full({3}, 7, DType::i64).to_vector<int64_t>(), std::vector<int64_t>(3, 7));
  EXPECT_EQ(diffvi::zeros({0, 5}).numel(), 0);
  Tensor s = diffvi::scalar_tensor(3.25);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 3.25);
}

TEST(Creation, ArangeAndLinspace) {
  EXPECT_EQ(diffvi::arange(5.0).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(diffvi::arange(2, 11, 3, DType::i64).to_vector<int64_t>(),
            (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(diffvi::arange(1, 0, -0.25, DType::f64).to_vector<double>(),
            (std::vector<double>{1, 0.75, 0.5, 0.25}));
  EXPECT_EQ(diffvi::arange(3, 3).numel(), 0);
  EXPECT_THROW(diffvi::arange(0, 1, 0), diffvi::ValueError);
  const std::vector<double> l = diffvi::linspace(-1, 1, 5, DType::f64).to_vector<double>();
  ASSERT_EQ(l.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(l[i], -1 + 0.5 * i);
  EXPECT_EQ(diffvi::linspace(2, 3, 1).to_vector<float>(), std::vector<float>{2});
  EXPECT_EQ(diffvi::linspace(2, 3, 0).numel(), 0);
}

TEST(Creation, Eye) {
  EXPECT_EQ(diffvi::eye(3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(diffvi::eye(0).shape(), (Shape{0, 0}));
}

TEST(Creation, FromVectorConvertsAndChecksCount) {
  Tensor a = diffvi::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.dtype(), DType::f32);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor b = diffvi::from_vector(std::vector<int64_t>{3, -1}, {2});
  EXPECT_EQ(b.dtype(), DType::i64);
  EXPECT_EQ(b.to_vector<int64_t>(), (std::vector<int64_t>{3, -1}));
  Tensor c = diffvi::from_vector(std::vector<float>{0.5f}, {}, DType::f64);
  EXPECT_EQ(c.dtype(), DType::f64);
  EXPECT_EQ(c.item(), 0.5);
  EXPECT_THROW(diffvi::from_vector(std::vector<double>{1, 2, 3}, {2, 2}), diffvi::ShapeError);
  Tensor t = diffvi::tensor({1, 2.5}, DType::f64);
  EXPECT_EQ(t.shape(), (Shape{2}));
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{1, 2.5}));
}

TEST(Creation, LikeFunctionsCopyShapeAndDtypeNotValues) {
  Tensor x = diffvi::full({2, 3}, 4.0, DType::f64);
  Tensor t = diffvi::raw::transpose(x, 0, 1);
  for (const Tensor& like : {diffvi::zeros_like(t), diffvi::ones_like(t), diffvi::empty_like(t),
                             diffvi::full_like(t, 9)}) {
    EXPECT_EQ(like.shape(), (Shape{3, 2}));
    EXPECT_EQ(like.dtype(), DType::f64);
    EXPECT_TRUE(like.is_contiguous());
    EXPECT_NE(like.impl()->storage, x.impl()->storage);
  }
  EXPECT_EQ(diffvi::full_like(t, 9).to_vector<double>(), std::vector<double>(6, 9.0));
  EXPECT_EQ(diffvi::ones_like(t).to_vector<double>(), std::vector<double>(6, 1.0));
}

TEST(Creation, RequiresGradOnlyForFloatingLeaves) {
  Tensor w = diffvi::zeros({2}, TensorOptions(DType::f64).set_requires_grad(true));
  EXPECT_TRUE(w.requires_grad());
  EXPECT_TRUE(w.is_leaf());
  diffvi::Generator gen(3);
  EXPECT_TRUE(diffvi::randn({2}, gen, TensorOptions().set_requires_grad(true)).requires_grad());
  EXPECT_FALSE(diffvi::zeros({2}).requires_grad());
  Tensor i = diffvi::zeros({2}, DType::i64);
  EXPECT_THROW(i.set_requires_grad(true), diffvi::ValueError);
}

TEST(Creation, NegativeDimensionIsRejected) {
  EXPECT_THROW(diffvi::zeros({2, -1}), diffvi::ShapeError);
}

TEST(Creation, UniformAndNormalRespectParameters) {
  diffvi::Generator gen(11);
  const std::vector<double> u = diffvi::uniform({2000}, 3, 5, gen, DType::f64).to_vector<double>();
  for (double v : u) {
    EXPECT_GT(v, 3.0);
    EXPECT_LT(v, 5.0);
  }
  EXPECT_THROW(diffvi::uniform({2}, 1, 0, gen), diffvi::ValueError);
  EXPECT_THROW(diffvi::normal({2}, 0, -1, gen), diffvi::ValueError);
  EXPECT_THROW(diffvi::uniform({2}, 0, 1, gen, DType::i64), diffvi::DTypeError);
}

TEST(Creation, UndefinedTensorUseThrows) {
  Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_THROW(t.shape(), diffvi::ValueError);
}

TEST(Device, ParseAndStr) {
  EXPECT_EQ(diffvi::Device::parse("cpu"), diffvi::Device::cpu());
  EXPECT_EQ(diffvi::Device::parse("cuda:1"), diffvi::Device::cuda(1));
  EXPECT_EQ(diffvi::Device::cuda(2).str(), "cuda:2");
  EXPECT_THROW(diffvi::Device::parse("gpu"), diffvi::ValueError);
  EXPECT_THROW(diffvi::Device::parse("cuda:x"), diffvi::ValueError);
}
