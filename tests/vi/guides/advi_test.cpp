// ADVI: full-rank recovers the exact Gaussian posterior of conjugate Bayesian linear regression;
// mean-field recovers its mean and the mean-field optimum's variances (1 / precision diagonal).
#include <gtest/gtest.h>

#include <cmath>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

constexpr int64_t kN = 20, kD = 3;
constexpr double kNoise = 0.5;

struct Regression {
  Tensor x, y;
  std::vector<double> mean, cov, precision;  // exact posterior
};

// 3x3 inverse by cofactors.
std::vector<double> inverse3(const std::vector<double>& a) {
  std::vector<double> inv(9);
  inv[0] = a[4] * a[8] - a[5] * a[7];
  inv[1] = a[2] * a[7] - a[1] * a[8];
  inv[2] = a[1] * a[5] - a[2] * a[4];
  inv[3] = a[5] * a[6] - a[3] * a[8];
  inv[4] = a[0] * a[8] - a[2] * a[6];
  inv[5] = a[2] * a[3] - a[0] * a[5];
  inv[6] = a[3] * a[7] - a[4] * a[6];
  inv[7] = a[1] * a[6] - a[0] * a[7];
  inv[8] = a[0] * a[4] - a[1] * a[3];
  const double det = a[0] * inv[0] + a[1] * inv[3] + a[2] * inv[6];
  for (double& v : inv) v /= det;
  return inv;
}

Regression make_regression() {
  diffvi::Generator gen(21);
  Regression r;
  // Correlated features so the posterior is correlated too.
  Tensor base = diffvi::randn({kN, kD}, gen, DType::f64);
  std::vector<double> xv = base.to_vector<double>();
  for (int64_t n = 0; n < kN; ++n) xv[n * kD + 1] += 0.8 * xv[n * kD];
  r.x = diffvi::from_vector(xv, {kN, kD}, DType::f64);
  const std::vector<double> w{1.0, -0.5, 0.25};
  std::vector<double> yv(kN);
  std::vector<double> noise = diffvi::randn({kN}, gen, DType::f64).to_vector<double>();
  for (int64_t n = 0; n < kN; ++n) {
    yv[n] = kNoise * noise[n];
    for (int64_t k = 0; k < kD; ++k) yv[n] += xv[n * kD + k] * w[k];
  }
  r.y = diffvi::from_vector(yv, {kN}, DType::f64);
  // Precision Λ = I + XᵀX / s², mean = Λ⁻¹ Xᵀy / s².
  r.precision.assign(9, 0.0);
  std::vector<double> xty(3, 0.0);
  for (int64_t i = 0; i < kD; ++i) {
    r.precision[i * 4] += 1;
    for (int64_t j = 0; j < kD; ++j) {
      for (int64_t n = 0; n < kN; ++n) {
        r.precision[i * 3 + j] += xv[n * kD + i] * xv[n * kD + j] / (kNoise * kNoise);
      }
    }
    for (int64_t n = 0; n < kN; ++n) xty[i] += xv[n * kD + i] * yv[n] / (kNoise * kNoise);
  }
  r.cov = inverse3(r.precision);
  r.mean.assign(3, 0.0);
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) r.mean[i] += r.cov[i * 3 + j] * xty[j];
  }
  return r;
}

vi::Model regression_model(const Regression& r) {
  Tensor x = r.x, y = r.y;
  return vi::Model([x, y](vi::Trace& t) {
    Tensor w = t.sample("w", vi::Normal(0, 1), {kD});                     // [S, 3]
    Tensor mean = diffvi::matmul(w, diffvi::transpose(t.data(x), 0, 1));  // [S, N]
    t.observe("y", vi::Normal(mean, kNoise), t.data(y));
  });
}

}  // namespace

TEST(Advi, FullRankRecoversExactPosterior) {
  const Regression r = make_regression();
  vi::Model m = regression_model(r);
  vi::FitOptions opt;
  opt.method = "advi-fullrank";
  opt.steps = 1500;
  opt.lr = 0.03;
  opt.final_lr_fraction = 0.02;
  opt.num_particles = 64;
  opt.seed = 4;
  vi::Posterior post = vi::fit(m, opt);
  auto& g = dynamic_cast<vi::FullRankNormal&>(*post.guide());
  std::vector<double> mu = g.loc.to_vector<double>();
  std::vector<double> cov = g.covariance().to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    const double sd = std::sqrt(r.cov[i * 4]);
    EXPECT_NEAR(mu[i], r.mean[i], 0.05 * sd) << "mean " << i;
    for (int j = 0; j < 3; ++j) {
      const double scale = std::sqrt(r.cov[i * 4] * r.cov[j * 4]);
      EXPECT_NEAR(cov[i * 3 + j], r.cov[i * 3 + j], 0.08 * scale) << "cov " << i << j;
    }
  }
  // The objective decreased and the posterior's density is available.
  EXPECT_LT(post.objective().back(), post.objective().front());
  ASSERT_TRUE(post.has_log_prob());
  EXPECT_EQ(post.log_prob(post.sample(4, diffvi::default_generator())).shape(), (diffvi::Shape{4}));
}

TEST(Advi, MeanFieldRecoversMeanAndMeanFieldVariances) {
  const Regression r = make_regression();
  vi::Model m = regression_model(r);
  vi::FitOptions opt;
  opt.method = "advi";
  opt.steps = 1500;
  opt.lr = 0.03;
  opt.final_lr_fraction = 0.02;
  opt.num_particles = 64;
  opt.seed = 5;
  vi::Posterior post = vi::fit(m, opt);
  auto& g = dynamic_cast<vi::MeanFieldNormal&>(*post.guide());
  std::vector<double> mu = g.loc.to_vector<double>();
  std::vector<double> sd = g.scale().to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    // For a Gaussian target the mean-field optimum has the exact mean and σ_i² = 1 / Λ_ii.
    EXPECT_NEAR(mu[i], r.mean[i], 0.05 * std::sqrt(r.cov[i * 4])) << i;
    EXPECT_NEAR(sd[i], 1 / std::sqrt(r.precision[i * 4]), 0.05 * sd[i]) << i;
  }
}

TEST(Fit, NegativeBatchSizeIsRejected) {
  // 0 means full data; a negative size used to be taken as 0 without a word.
  vi::Model m([](vi::Trace& t) { t.sample("a", vi::Normal(0, 1)); });
  for (const std::string method : {"advi", "nuts"}) {
    try {
      vi::fit(m, vi::FitOptions().set_method(method).set_steps(1).set_batch_size(-5));
      ADD_FAILURE() << method << ": no ValueError";
    } catch (const diffvi::ValueError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("batch_size"), std::string::npos) << what;
      EXPECT_NE(what.find("-5"), std::string::npos) << what;
    }
  }
}

TEST(Fit, UnknownMethodNamesTheAvailableOnes) {
  vi::Model m([](vi::Trace& t) { t.sample("a", vi::Normal(0, 1)); });
  vi::FitOptions opt;
  opt.method = "gibbs";
  try {
    vi::fit(m, opt);
    ADD_FAILURE();
  } catch (const diffvi::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("advi-fullrank"), std::string::npos) << e.what();
  }
}
