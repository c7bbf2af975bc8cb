// A scalar accepts dim 0 / -1 where an op takes a dim (as PyTorch does) but has no dim to index:
// these used to read or write shape()[0] of an empty shape. Found by fuzz_test.cpp.
#include <gtest/gtest.h>

#include <vector>

#include "diffvi/diffvi.h"

using diffvi::Tensor;

namespace {

TEST(ScalarDims, ReducingOverDimZeroIsTheIdentity) {
  const Tensor x = diffvi::scalar_tensor(2.5);
  for (const std::vector<int64_t>& dims : {std::vector<int64_t>{0}, std::vector<int64_t>{-1}}) {
    EXPECT_EQ(diffvi::sum(x, dims).item(), 2.5);
    EXPECT_EQ(diffvi::mean(x, dims, true).item(), 2.5);
    EXPECT_EQ(diffvi::max(x, dims).item(), 2.5);
    EXPECT_EQ(diffvi::logsumexp(x, dims).dim(), 0);
  }
  EXPECT_THROW(diffvi::sum(x, {1}), diffvi::IndexError);
}

TEST(ScalarDims, SizeSplitAndNarrowOfAScalarAreIndexErrors) {
  const Tensor x = diffvi::scalar_tensor(1.0);
  EXPECT_THROW(x.size(0), diffvi::IndexError);
  EXPECT_THROW(diffvi::split(x, 1, 0), diffvi::IndexError);
  EXPECT_THROW(diffvi::chunk(x, 2, -1), diffvi::IndexError);
  EXPECT_THROW(diffvi::narrow(x, 0, 0, 1), diffvi::IndexError);
}

TEST(ScalarDims, IndexingAScalar) {
  const Tensor x = diffvi::scalar_tensor(4.0, diffvi::DType::f64);
  const Tensor zero = diffvi::from_vector(std::vector<int64_t>{0}, {1});
  EXPECT_EQ(diffvi::index_select(x, 0, zero).item(), 4.0);
  EXPECT_EQ(diffvi::index_select(x, 0, zero).dim(), 0);
  EXPECT_THROW(diffvi::index_select(x, 0, diffvi::from_vector(std::vector<int64_t>{0, 0}, {2})),
               diffvi::IndexError);
  EXPECT_THROW(diffvi::index_select(x, 0, diffvi::from_vector(std::vector<int64_t>{1}, {1})),
               diffvi::IndexError);
  const Tensor i0 = diffvi::from_vector(std::vector<int64_t>{0}, {});
  EXPECT_EQ(diffvi::gather(x, 0, i0).item(), 4.0);
  const Tensor src = diffvi::scalar_tensor(1.5, diffvi::DType::f64);
  EXPECT_EQ(diffvi::scatter_add(x, 0, i0, src).item(), 5.5);
}

}  // namespace
