// Printing: the header names shape, dtype and device; values appear; long dims are summarised.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

using diffvi::DType;
using diffvi::Tensor;

namespace {
bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST(Printing, HeaderAndValues) {
  Tensor x = diffvi::from_vector(std::vector<double>{1.5, -2, 3, 4, 5, 6}, {2, 3});
  const std::string s = x.str();
  EXPECT_TRUE(Has(s, "shape=[2, 3]")) << s;
  EXPECT_TRUE(Has(s, "dtype=f32")) << s;
  EXPECT_TRUE(Has(s, "device=cpu")) << s;
  EXPECT_TRUE(Has(s, "1.5")) << s;
  EXPECT_TRUE(Has(s, "-2")) << s;
  std::ostringstream os;
  os << x;
  EXPECT_EQ(os.str(), s);
}

TEST(Printing, LongDimsAreSummarised) {
  Tensor x = diffvi::arange(1000.0, DType::i64);
  const std::string s = x.str();
  EXPECT_TRUE(Has(s, "...")) << s;
  EXPECT_TRUE(Has(s, "999")) << s;
  EXPECT_FALSE(Has(s, "500")) << s;  // the middle is elided
  EXPECT_LT(s.size(), 200u);
}

TEST(Printing, ScalarsEmptyAndUndefined) {
  EXPECT_TRUE(Has(diffvi::scalar_tensor(2.5, DType::f64).str(), "2.5"));
  EXPECT_TRUE(Has(diffvi::zeros({0, 3}).str(), "shape=[0, 3]"));
  EXPECT_EQ(Tensor().str(), "Tensor(undefined)");
}

TEST(Printing, DescribeIsCompact) {
  EXPECT_EQ(diffvi::describe(diffvi::zeros({2, 3})), "[2, 3] f32 cpu");
  EXPECT_EQ(diffvi::describe(diffvi::zeros({}, DType::f64)), "[] f64 cpu");
  EXPECT_EQ(diffvi::describe(Tensor()), "undefined");
}
