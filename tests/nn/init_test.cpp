// Initialisers: bounds and moments of each draw, fans, gains and reproducibility.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nn_test_util.h"

namespace init = diffvi::nn::init;
using diffvi::Tensor;
using nntest::Values;

namespace {

struct Moments {
  double mean, std, min, max;
};
Moments Stats(const Tensor& t) {
  const std::vector<double> v = Values(t);
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean) / v.size();
  return {mean, std::sqrt(var), *std::min_element(v.begin(), v.end()),
          *std::max_element(v.begin(), v.end())};
}

TEST(Init, FansAndGains) {
  using Fans = std::pair<int64_t, int64_t>;
  EXPECT_EQ(init::fans(diffvi::empty({8, 3})), Fans(3, 8));
  EXPECT_EQ(init::fans(diffvi::empty({8, 3, 5, 5})), Fans(75, 200));
  EXPECT_THROW(init::fans(diffvi::empty({})), diffvi::ValueError);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::relu), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::leaky_relu, std::sqrt(5.0)),
                   std::sqrt(1.0 / 3.0));
}

TEST(Init, KaimingUniformDefaultIsPyTorchLinear) {
  diffvi::Generator gen(1);
  Tensor w = diffvi::empty({200, 50});
  init::kaiming_uniform_(w, std::sqrt(5.0), gen);
  const Moments m = Stats(w);
  const double bound = 1 / std::sqrt(50.0);
  EXPECT_LE(m.max, bound);
  EXPECT_GE(m.min, -bound);
  EXPECT_NEAR(m.std, bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_GT(m.max, 0.99 * bound);
}

TEST(Init, XavierAndKaimingNormal) {
  diffvi::Generator gen(2);
  Tensor w = diffvi::empty({100, 300});
  init::xavier_uniform_(w, gen, 2.0);
  const double b = 2.0 * std::sqrt(6.0 / 400.0);
  Moments m = Stats(w);
  EXPECT_LE(m.max, b);
  EXPECT_NEAR(m.std, b / std::sqrt(3.0), 0.02 * b);
  init::xavier_normal_(w, gen);
  m = Stats(w);
  EXPECT_NEAR(m.std, std::sqrt(2.0 / 400.0), 0.02 * std::sqrt(2.0 / 400.0));
  EXPECT_NEAR(m.mean, 0.0, 0.002);
  init::kaiming_normal_(w, 0.0, gen, init::FanMode::fan_out, init::Nonlinearity::relu);
  EXPECT_NEAR(Stats(w).std, std::sqrt(2.0 / 100.0), 0.02 * std::sqrt(2.0 / 100.0));
}

TEST(Init, TruncatedNormal) {
  diffvi::Generator gen(3);
  Tensor w = diffvi::empty({20000}, diffvi::TensorOptions(diffvi::DType::f64));
  init::trunc_normal_(w, 1.0, 2.0, -1.0, 2.0, gen);
  const Moments m = Stats(w);
  EXPECT_GE(m.min, -1.0);
  EXPECT_LE(m.max, 2.0);
  // Truncated N(1, 4) on [-1, 2]: alpha = -1, beta = 0.5.
  auto pdf = [](double z) { return std::exp(-z * z / 2) / std::sqrt(2 * M_PI); };
  auto cdf = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  const double Z = cdf(0.5) - cdf(-1.0);
  const double mean = 1.0 + 2.0 * (pdf(-1.0) - pdf(0.5)) / Z;
  EXPECT_NEAR(m.mean, mean, 0.02);
  // Same seed, same draw.
  diffvi::Generator again(3);
  Tensor w2 = diffvi::empty({20000}, diffvi::TensorOptions(diffvi::DType::f64));
  init::trunc_normal_(w2, 1.0, 2.0, -1.0, 2.0, again);
  EXPECT_TRUE(testutil::Equal(w, w2));
  EXPECT_THROW(init::trunc_normal_(w, 0, 1, 1, 0, gen), diffvi::ValueError);
}

TEST(Init, Constants) {
  Tensor w = diffvi::empty({3, 2});
  init::ones_(w);
  EXPECT_TRUE(testutil::Equal(w, diffvi::ones({3, 2})));
  init::zeros_(w);
  EXPECT_TRUE(testutil::Equal(w, diffvi::zeros({3, 2})));
  init::constant_(w, 2.5);
  EXPECT_TRUE(testutil::Equal(w, diffvi::full({3, 2}, 2.5)));
}

}  // namespace
