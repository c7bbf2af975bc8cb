// Shape arithmetic shared by every layer: numel, strides, printing, broadcasting, dim wrapping.
#include "diffvi/tensor/shape.h"

#include <gtest/gtest.h>

#include "diffvi/tensor/errors.h"

using diffvi::Shape;

TEST(Shape, NumelCountsElementsAndScalarsHaveOne) {
  EXPECT_EQ(diffvi::numel({}), 1);
  EXPECT_EQ(diffvi::numel({2, 3, 4}), 24);
  EXPECT_EQ(diffvi::numel({2, 0, 4}), 0);
}

TEST(Shape, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(diffvi::contiguous_strides({2, 3, 4}), (diffvi::Strides{12, 4, 1}));
  EXPECT_EQ(diffvi::contiguous_strides({}), diffvi::Strides{});
  // A zero dim must not zero the strides of the dims before it (they would alias).
  EXPECT_EQ(diffvi::contiguous_strides({2, 0, 3}), (diffvi::Strides{3, 3, 1}));
}

TEST(Shape, ShapeStrFormatsLikeAList) {
  EXPECT_EQ(diffvi::shape_str({2, 3}), "[2, 3]");
  EXPECT_EQ(diffvi::shape_str({}), "[]");
}

TEST(Shape, BroadcastFollowsNumPy) {
  EXPECT_EQ(diffvi::broadcast_shapes({3, 1}, {1, 4}, "t"), (Shape{3, 4}));
  EXPECT_EQ(diffvi::broadcast_shapes({2, 3, 4}, {4}, "t"), (Shape{2, 3, 4}));
  EXPECT_EQ(diffvi::broadcast_shapes({}, {2, 3}, "t"), (Shape{2, 3}));
  EXPECT_EQ(diffvi::broadcast_shapes({0, 1}, {1, 5}, "t"), (Shape{0, 5}));
  EXPECT_EQ(diffvi::broadcast_shapes({1}, {0}, "t"), (Shape{0}));
}

TEST(Shape, BroadcastFailureNamesOpAndShapes) {
  try {
    diffvi::broadcast_shapes({2, 3}, {4, 3}, "myop");
    FAIL() << "expected ShapeError";
  } catch (const diffvi::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("myop"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 3]"), std::string::npos) << msg;
  }
}

TEST(Shape, NormalizeDimWrapsNegativeAndRejectsOutOfRange) {
  EXPECT_EQ(diffvi::normalize_dim(-1, 3, "t"), 2);
  EXPECT_EQ(diffvi::normalize_dim(0, 3, "t"), 0);
  EXPECT_THROW(diffvi::normalize_dim(3, 3, "t"), diffvi::IndexError);
  EXPECT_THROW(diffvi::normalize_dim(-4, 3, "t"), diffvi::IndexError);
  EXPECT_EQ(diffvi::normalize_dims({-1, 0}, 3, "t"), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(diffvi::normalize_dims({}, 2, "t"), (std::vector<int64_t>{0, 1}));
  EXPECT_THROW(diffvi::normalize_dims({1, -2}, 3, "t"), diffvi::IndexError);  // listed twice
}
