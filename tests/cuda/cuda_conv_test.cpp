// CUDA backend parity with the reference backend for the three conv2d kernels (forward with and
// without bias, backward-data, backward-weights with the bias gradient) over stride, padding and
// group variants.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"

namespace {

using cudatest::AllMatchReference;
using cudatest::CudaTest;
using cudatest::MatchesReference;
using diffvi::Conv2dParams;
using diffvi::Shape;
using diffvi::Tensor;
namespace raw = diffvi::raw;

struct Case {
  Shape x, w;
  Conv2dParams p;
};

const std::vector<Case> kCases = {
    {{2, 3, 6, 5}, {4, 3, 3, 3}, {1, 1, 1, 1, 1}},
    {{1, 2, 7, 7}, {3, 2, 3, 3}, {2, 2, 0, 0, 1}},
    {{1, 2, 8, 6}, {3, 2, 3, 2}, {2, 1, 1, 0, 1}},
    {{2, 4, 5, 5}, {6, 2, 3, 3}, {1, 1, 1, 1, 2}},
};

TEST_F(CudaTest, Conv2dForward) {
  for (const Case& c : kCases) {
    const Conv2dParams p = c.p;
    const std::vector<Tensor> in = {testutil::Uniform(c.x, 1), testutil::Uniform(c.w, 2),
                                    testutil::Uniform({c.w[0]}, 3)};
    EXPECT_TRUE(MatchesReference(
        [p](const std::vector<Tensor>& v) { return raw::conv2d(v[0], v[1], v[2], p); }, in));
    EXPECT_TRUE(MatchesReference(
        [p](const std::vector<Tensor>& v) { return raw::conv2d(v[0], v[1], Tensor(), p); }, in));
  }
}

TEST_F(CudaTest, Conv2dBackward) {
  for (const Case& c : kCases) {
    const Conv2dParams p = c.p;
    const Shape xs = c.x, ws = c.w;
    const Tensor x = testutil::Uniform(c.x, 4), w = testutil::Uniform(c.w, 5);
    const Tensor dy = testutil::Uniform(raw::conv2d(x, w, Tensor(), p).shape(), 6);
    EXPECT_TRUE(AllMatchReference(
        [p, xs, ws](const std::vector<Tensor>& v) -> std::vector<Tensor> {
          raw::Conv2dWeightGrads g = raw::conv2d_backward_weights(v[0], v[2], ws, p, true);
          return {raw::conv2d_backward_data(v[2], v[1], xs, p), g.dw, g.dbias};
        },
        {x, w, dy}, 1e-4, 1e-5));
  }
}

}  // namespace
