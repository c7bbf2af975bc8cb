// Tensor-layer views share storage and have the documented geometry; copies do not share.
#include <gtest/gtest.h>

#include "test_util.h"

using diffvi::Shape;
using diffvi::Strides;
using diffvi::Tensor;
namespace raw = diffvi::raw;

namespace {
Tensor Iota(const Shape& shape, diffvi::DType dtype = diffvi::DType::f32) {
  return raw::reshape(diffvi::arange(static_cast<double>(diffvi::numel(shape)), dtype), shape);
}
}  // namespace

TEST(Views, ViewSharesStorageAndSeesWrites) {
  Tensor x = Iota({2, 6});
  Tensor v = raw::view(x, {3, -1});
  EXPECT_EQ(v.shape(), (Shape{3, 4}));
  EXPECT_EQ(v.impl()->storage, x.impl()->storage);
  x.data<float>()[5] = 100.0f;  // element (1, 1) of the [3, 4] view
  EXPECT_EQ(raw::slice(raw::slice(v, 0, 1, 2), 1, 1, 2).item(), 100.0);
}

TEST(Views, TransposeAndPermuteSwapStrides) {
  Tensor x = Iota({2, 3, 4});
  Tensor t = raw::transpose(x, 0, 2);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Strides{1, 4, 12}));
  EXPECT_FALSE(t.is_contiguous());
  Tensor p = raw::permute(x, {1, 2, 0});
  EXPECT_EQ(p.shape(), (Shape{3, 4, 2}));
  // p[i, j, k] = x[k, i, j] = 12k + 4i + j.
  const std::vector<float> v = p.to_vector<float>();
  EXPECT_EQ(v[0 * 8 + 1 * 2 + 1], 12 * 1 + 0 + 1);
  EXPECT_EQ(v[2 * 8 + 3 * 2 + 0], 0 + 4 * 2 + 3);
}

TEST(Views, ViewOfTransposedIsRejectedButReshapeCopies) {
  Tensor t = raw::transpose(Iota({3, 4}), 0, 1);  // [4, 3], non-contiguous
  EXPECT_THROW(raw::view(t, {12}), diffvi::ShapeError);
  Tensor r = raw::reshape(t, {12});
  EXPECT_NE(r.impl()->storage, t.impl()->storage);
  EXPECT_EQ(r.to_vector<float>(), t.to_vector<float>());  // row-major order of the view
  EXPECT_EQ(r.to_vector<float>()[1], 4.0f);
}

TEST(Views, SqueezeUnsqueezeExpand) {
  Tensor x = Iota({3, 1, 2});
  EXPECT_EQ(raw::squeeze(x).shape(), (Shape{3, 2}));
  EXPECT_EQ(raw::squeeze(x, 0).shape(), (Shape{3, 1, 2}));  // not size 1: kept
  EXPECT_EQ(raw::unsqueeze(x, -1).shape(), (Shape{3, 1, 2, 1}));
  EXPECT_EQ(raw::unsqueeze(x, 0).shape(), (Shape{1, 3, 1, 2}));
  Tensor e = raw::expand(x, {2, 3, 4, 2});
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4, 2}));
  EXPECT_EQ(e.strides()[0], 0);
  EXPECT_EQ(e.strides()[2], 0);
  EXPECT_EQ(e.impl()->storage, x.impl()->storage);
  const std::vector<float> v = e.to_vector<float>();
  // e[1, 2, 3, 1] = x[2, 0, 1] = 5.
  EXPECT_EQ(v[((1 * 3 + 2) * 4 + 3) * 2 + 1], 5.0f);
  EXPECT_THROW(raw::expand(x, {3, 2, 3}), diffvi::ShapeError);
}

TEST(Views, SliceWithStepAndNegativeBounds) {
  Tensor x = Iota({10});
  Tensor s = raw::slice(x, 0, 1, 8, 3);  // 1, 4, 7
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_EQ(s.strides(), (Strides{3}));
  EXPECT_EQ(raw::slice(x, 0, -3, 100).to_vector<float>(), (std::vector<float>{7, 8, 9}));
  EXPECT_EQ(raw::slice(x, 0, 5, 2).numel(), 0);  // empty, not an error
  EXPECT_THROW(raw::slice(x, 0, 0, 5, 0), diffvi::ValueError);
}

TEST(Views, SliceOfSliceComposesOffsets) {
  Tensor x = Iota({4, 5});
  Tensor s = raw::slice(raw::slice(x, 1, 1, 5), 0, 2, 4);  // rows 2..3, cols 1..4
  EXPECT_EQ(s.shape(), (Shape{2, 4}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{11, 12, 13, 14, 16, 17, 18, 19}));
}

TEST(Views, ContiguousAndClone) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(raw::contiguous(x).is_same(x));  // no copy when already contiguous
  Tensor t = raw::transpose(x, 0, 1);
  Tensor c = raw::contiguous(t);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor k = raw::clone(x);
  k.data<float>()[0] = 42;
  EXPECT_EQ(x.to_vector<float>()[0], 0.0f);  // clone does not share
}

TEST(Views, SizeOneAndEmptyDimsAreContiguous) {
  // Strides of size-1 dims do not matter for contiguity.
  Tensor x = raw::as_strided(Iota({6}), {2, 1, 3}, {3, 99, 1}, 0);
  EXPECT_TRUE(x.is_contiguous());
  Tensor e = diffvi::zeros({0, 3});
  EXPECT_EQ(raw::transpose(e, 0, 1).shape(), (Shape{3, 0}));
  EXPECT_EQ(raw::reshape(e, {3, 0, 5}).numel(), 0);
}

TEST(Views, ToDtypeConvertsValuesAndItemReadsOne) {
  Tensor x = diffvi::from_vector(std::vector<double>{1.5, -2.25, 3}, {3}, diffvi::DType::f64);
  Tensor f = raw::to(x, diffvi::DType::f32);
  EXPECT_EQ(f.dtype(), diffvi::DType::f32);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.5f, -2.25f, 3.0f}));
  EXPECT_TRUE(raw::to(x, diffvi::DType::f64).is_same(x));
  Tensor i = raw::to(x, diffvi::DType::i64);
  EXPECT_EQ(i.to_vector<int64_t>()[2], 3);
  EXPECT_EQ(raw::slice(x, 0, 1, 2).item(), -2.25);
  EXPECT_THROW(x.item(), diffvi::ValueError);
}

TEST(Views, CopyBroadcastsSourceIntoStridedDestination) {
  Tensor dst = diffvi::zeros({3, 4});
  Tensor col = raw::slice(dst, 1, 1, 4, 2);  // columns 1 and 3
  raw::copy_(col, diffvi::from_vector(std::vector<float>{7, 8}, {2}));
  EXPECT_EQ(dst.to_vector<float>(), (std::vector<float>{0, 7, 0, 8, 0, 7, 0, 8, 0, 7, 0, 8}));
}

TEST(Views, DataRejectsWrongType) {
  Tensor x = diffvi::zeros({2});
  EXPECT_THROW(x.data<double>(), diffvi::DTypeError);
  EXPECT_NO_THROW(x.data<float>());
}
