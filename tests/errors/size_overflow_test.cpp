// Sizes too large to describe are a ValueError naming the shape, raised before anything is
// allocated: element counts, strides and byte counts are checked for int64 overflow where they are
// computed (shape.cpp), so creation, views, broadcasting and reductions all inherit the check.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"
#include "errors/expect_error.h"

using diffvi::DType;
using diffvi::Tensor;
using errtest::MessageOf;

namespace {

constexpr int64_t k2_31 = int64_t{1} << 31, k2_32 = int64_t{1} << 32;
constexpr int64_t k2_61 = int64_t{1} << 61, k2_62 = int64_t{1} << 62;

TEST(SizeOverflow, NumelAndStridesOfShapes) {
  EXPECT_EQ(diffvi::numel({k2_31, k2_31}), k2_62);
  EXPECT_EQ(diffvi::numel({0, k2_62, k2_62}), 0);  // a zero dim empties it, whatever the rest
  const std::string n = MessageOf<diffvi::ValueError>([] { diffvi::numel({k2_32, k2_32}); });
  EXPECT_CONTAINS(n, "[4294967296, 4294967296]");
  EXPECT_CONTAINS(n, "overflows int64");
  const std::string s = MessageOf<diffvi::ValueError>([] {
    diffvi::contiguous_strides({0, k2_32, k2_32});
  });
  EXPECT_CONTAINS(s, "[0, 4294967296, 4294967296]");
  EXPECT_CONTAINS(s, "strides");
}

TEST(SizeOverflow, CreationNamesTheShape) {
  // 2^64 bytes: the byte count wrapped to 0 (SIGBUS on the first write).
  const std::string f32 = MessageOf<diffvi::ValueError>([] { diffvi::zeros({k2_62}); });
  EXPECT_CONTAINS(f32, "[4611686018427387904]");
  EXPECT_CONTAINS(f32, "4-byte");
  const std::string f64 = MessageOf<diffvi::ValueError>([] { diffvi::zeros({k2_61}, DType::f64); });
  EXPECT_CONTAINS(f64, "[2305843009213693952]");
  EXPECT_CONTAINS(f64, "8-byte");
  // The element count itself wrapped to 0.
  const std::string wrap = MessageOf<diffvi::ValueError>([] { diffvi::zeros({k2_32, k2_32}); });
  EXPECT_CONTAINS(wrap, "[4294967296, 4294967296]");
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([] {
                    diffvi::ones({k2_32, 2, k2_31});
                  }),
                  "[4294967296, 2, 2147483648]");
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([] { diffvi::eye(k2_32); }),
                  "[4294967296, 4294967296]");
  // Still fine: empty tensors with huge other dims.
  EXPECT_EQ(diffvi::zeros({0, k2_62}).numel(), 0);
}

TEST(SizeOverflow, ExpandedViewsAndTheirCopies) {
  const Tensor one = diffvi::ones({1});
  // A 2^62-element view is fine (zero strides); copying it needs 2^64 bytes.
  const Tensor big = diffvi::expand(one, {k2_31, k2_31});
  EXPECT_EQ(big.numel(), k2_62);
  const std::string c = MessageOf<diffvi::ValueError>([&] { diffvi::contiguous(big); });
  EXPECT_CONTAINS(c, "[2147483648, 2147483648]");
  // A view whose element count overflows is refused at once.
  const std::string e = MessageOf<diffvi::ValueError>([&] { diffvi::expand(one, {k2_32, k2_32}); });
  EXPECT_CONTAINS(e, "expand");
  EXPECT_CONTAINS(e, "[4294967296, 4294967296]");
  // Broadcasting two views into an output too large to allocate.
  const Tensor col = diffvi::expand(diffvi::ones({1, 1}), {k2_32, 1});
  const Tensor row = diffvi::expand(diffvi::ones({1, 1}), {1, k2_32});
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([&] { diffvi::add(col, row); }),
                  "[4294967296, 4294967296]");
  // cat's output size along the dim is a sum that can overflow too.
  const Tensor half = diffvi::expand(one, {k2_62});
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([&] { diffvi::cat({half, half}, 0); }), "cat");
}

TEST(SizeOverflow, ViewAndReshapeTargets) {
  const Tensor x = diffvi::zeros({4});
  // [2^32, 2^32, 0] used to be compared as a wrapped product; [2^32, 2^32] wraps to 0.
  const std::string r = MessageOf<diffvi::ValueError>([&] {
    diffvi::reshape(x, {k2_32, k2_32, -1});
  });
  EXPECT_CONTAINS(r, "reshape");
  EXPECT_CONTAINS(r, "[4294967296, 4294967296, -1]");
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([&] {
                    diffvi::view(x, {k2_32, k2_32, 4});
                  }),
                  "view");
  EXPECT_THROW(diffvi::reshape(x, {k2_62, 0}), diffvi::ShapeError);  // 0 elements, not 4
}

TEST(SizeOverflow, HugeStepsAndLengthsInSlicing) {
  const Tensor x = diffvi::arange(10);
  EXPECT_EQ(diffvi::slice(x, 0, 3, 10, INT64_MAX).to_vector<double>(), std::vector<double>{3});
  EXPECT_EQ(diffvi::slice(x, 0, 0, INT64_MAX, 4).numel(), 3);
  EXPECT_THROW(diffvi::narrow(x, 0, 2, INT64_MAX), diffvi::IndexError);
  EXPECT_THROW(diffvi::split(x, {INT64_MAX, INT64_MAX, 4}, 0), diffvi::ShapeError);
  EXPECT_EQ(diffvi::chunk(x, INT64_MAX, 0).size(), 10u);
  // An empty tensor's strides can be huge ([8, 2^61, 0] has stride 2^61): slicing far into it or
  // unsqueezing it used to overflow the offset / stride (UBSan).
  const Tensor e = diffvi::zeros({8, k2_61, 0});
  EXPECT_EQ(diffvi::slice(e, 0, 6, 8).shape(), (diffvi::Shape{2, k2_61, 0}));
  EXPECT_EQ(diffvi::unsqueeze(diffvi::slice(e, 1, 0, 4, 1), 0).dim(), 4);
  // flatten multiplies the dims it merges: 2^64 for [0, 2^32, 2^32].
  const Tensor f = diffvi::expand(diffvi::zeros({0, 1, 1}), {0, k2_32, k2_32});
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([&] { diffvi::flatten(f, 1, 2); }), "flatten");
}

TEST(SizeOverflow, ArangeCountBeyondInt64) {
  // The count 1e19 was cast to int64 unchecked and came back as an empty tensor.
  const std::string msg = MessageOf<diffvi::ValueError>([] { diffvi::arange(0, 1e19); });
  EXPECT_CONTAINS(msg, "arange");
  EXPECT_CONTAINS(msg, "1e+19");
  EXPECT_THROW(diffvi::arange(-1.7e308, 1.7e308, 1.0), diffvi::ValueError);  // end - start = inf
  EXPECT_THROW(diffvi::arange(0, 1, 1e-300), diffvi::ValueError);
  EXPECT_THROW(diffvi::arange(0, 1, std::nan("")), diffvi::ValueError);
  EXPECT_EQ(diffvi::arange(3, 0, -1).to_vector<double>(), (std::vector<double>{3, 2, 1}));
  EXPECT_EQ(diffvi::arange(0, 3, -1).numel(), 0);
}

TEST(SizeOverflow, ReducingAnEmptyTensorWithAHugeDim) {
  const Tensor x = diffvi::zeros({0, k2_62});
  EXPECT_EQ(diffvi::sum(x).item(), 0.0);  // every dim reduced: one element
  // Reducing dim 0 leaves [1, 2^62]: 2^64 bytes. This used to escape as std::length_error.
  const std::string msg = MessageOf<diffvi::ValueError>([&] { diffvi::sum(x, {0}); });
  EXPECT_CONTAINS(msg, "[1, 4611686018427387904]");
  EXPECT_THROW(diffvi::mean(x, {0}), diffvi::ValueError);
  // [2, 0, 2^62] reduced over dim 1 leaves 2^63 elements: an overflowing count.
  EXPECT_CONTAINS(MessageOf<diffvi::ValueError>([] {
                    diffvi::sum(diffvi::zeros({2, 0, k2_62}), {1});
                  }),
                  "[2, 1, 4611686018427387904]");
}

}  // namespace
