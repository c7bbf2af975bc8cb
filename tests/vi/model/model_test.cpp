// The model API: site discovery and flattening, the log density against a hand-written one,
// gradients, constrain/unconstrain, minibatch scaling and structural errors.
#include <gtest/gtest.h>

#include <cmath>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

const std::vector<double> kY{28, 8, -3, 7, -1, 1, 18, 12};
const std::vector<double> kSigma{15, 10, 16, 11, 9, 11, 10, 18};

vi::Model eight_schools() {
  Tensor y = diffvi::from_vector(kY, {8}, DType::f64);
  Tensor sigma = diffvi::from_vector(kSigma, {8}, DType::f64);
  return vi::Model([y, sigma](vi::Trace& t) {
    Tensor mu = t.sample("mu", vi::Normal(0, 5));
    Tensor tau = t.sample("tau", vi::HalfCauchy(5));
    Tensor eta = t.sample("eta", vi::Normal(0, 1), {8});
    Tensor theta = t.deterministic("theta", mu + tau * eta);
    t.observe("y", vi::Normal(theta, t.data(sigma)), t.data(y));
  });
}

double normal_lp(double x, double m, double s) {
  const double z = (x - m) / s;
  return -0.5 * z * z - std::log(s) - 0.5 * std::log(2 * M_PI);
}

// The same log density written by hand in unconstrained coordinates (log τ with its Jacobian).
double manual_log_density(const std::vector<double>& z) {
  const double mu = z[0], log_tau = z[1], tau = std::exp(log_tau);
  double lp = normal_lp(mu, 0, 5) + std::log(2 / (M_PI * 5 * (1 + tau * tau / 25))) + log_tau;
  for (int j = 0; j < 8; ++j) {
    lp += normal_lp(z[2 + j], 0, 1) + normal_lp(kY[j], mu + tau * z[2 + j], kSigma[j]);
  }
  return lp;
}

}  // namespace

TEST(Model, SitesAreFlattenedInOrder) {
  vi::Model m = eight_schools();
  ASSERT_EQ(m.dim(), 10);
  ASSERT_EQ(m.sites().size(), 3u);
  EXPECT_EQ(m.site("tau").offset, 1);
  EXPECT_EQ(m.site("tau").bijector->name(), "Exp");
  EXPECT_EQ(m.site("eta").offset, 2);
  EXPECT_EQ(m.site("eta").size, 8);
  EXPECT_EQ(m.coordinate_names()[3], "eta[1]");
  EXPECT_THROW(m.site("nope"), diffvi::ValueError);
}

TEST(Model, LogDensityMatchesHandWrittenAndIsBatched) {
  vi::Model m = eight_schools();
  diffvi::Generator gen(3);
  Tensor z = diffvi::randn({5, 10}, gen, DType::f64);
  std::vector<double> lp = m.log_density(z).to_vector<double>();
  std::vector<double> zv = z.to_vector<double>();
  for (int s = 0; s < 5; ++s) {
    std::vector<double> row(zv.begin() + s * 10, zv.begin() + (s + 1) * 10);
    EXPECT_NEAR(lp[s], manual_log_density(row), 1e-9);
  }
  // f32 evaluation agrees to single precision.
  std::vector<double> lp32 = m.log_density(diffvi::to(z, DType::f32)).to_vector<double>();
  for (int s = 0; s < 5; ++s) EXPECT_NEAR(lp32[s], lp[s], 1e-3 * std::abs(lp[s]));
  // Gradient of the batched density by central differences.
  auto res = diffvi::gradcheck([&](const std::vector<Tensor>& in) { return m.log_density(in[0]); },
                               {diffvi::clone(z).set_requires_grad(true)});
  EXPECT_TRUE(res.ok) << res.message;
  // The host interface used by NUTS.
  std::vector<double> lpv(5), g(50);
  m.log_density_and_grad(zv.data(), 5, lpv.data(), g.data());
  EXPECT_NEAR(lpv[2], lp[2], 1e-12);
}

TEST(Model, ConstrainAndUnconstrain) {
  vi::Model m = eight_schools();
  Tensor z =
      diffvi::from_vector(std::vector<double>{1, 0.5, 0, 0, 0, 0, 0, 0, 0, 1}, {1, 10}, DType::f64);
  auto v = m.constrain(z);
  EXPECT_NEAR(v.at("tau").item(), std::exp(0.5), 1e-12);
  EXPECT_EQ(v.at("eta").shape(), (diffvi::Shape{1, 8}));
  EXPECT_NEAR(v.at("theta").to_vector<double>()[7], 1 + std::exp(0.5), 1e-12);
  Tensor back = m.unconstrain(v);
  EXPECT_NEAR(back.to_vector<double>()[1], 0.5, 1e-12);
}

TEST(Model, MinibatchScalingIsUnbiased) {
  // y_n ~ N(w x_n, 1), N = 40, minibatches of 8 with the likelihood scaled by N/|b|.
  const int64_t n = 40;
  diffvi::Generator data_gen(11);
  Tensor x = diffvi::randn({n}, data_gen, DType::f64);
  Tensor y = diffvi::add(diffvi::mul(x, 2.0), diffvi::randn({n}, data_gen, DType::f64));
  vi::Model m([x, y, n](vi::Trace& t) {
    Tensor w = t.sample("w", vi::Normal(0, 1));
    vi::Plate p = t.plate("data", n);
    t.observe("y", vi::Normal(w * p.select(x), 1.0), p.select(y), p);
  });
  Tensor z = diffvi::from_vector(std::vector<double>{1.3, -0.4}, {2, 1}, DType::f64);
  std::vector<double> full = m.log_density(z).to_vector<double>();
  diffvi::Generator gen(5);
  vi::EvalOptions opt;
  opt.batch_size = 8;
  opt.generator = &gen;
  const int reps = 3000;
  std::vector<double> sum(2, 0), sq(2, 0);
  for (int r = 0; r < reps; ++r) {
    std::vector<double> lp = m.log_density(z, opt).to_vector<double>();
    for (int s = 0; s < 2; ++s) {
      sum[s] += lp[s];
      sq[s] += lp[s] * lp[s];
    }
  }
  for (int s = 0; s < 2; ++s) {
    const double mean = sum[s] / reps, var = sq[s] / reps - mean * mean;
    EXPECT_GT(var, 0);  // really subsampled
    EXPECT_NEAR(mean, full[s], 4 * std::sqrt(var / reps)) << "particle " << s;
  }
}

TEST(Model, StructuralErrors) {
  vi::Model dup([](vi::Trace& t) {
    t.sample("a", vi::Normal(0, 1));
    t.sample("a", vi::Normal(0, 1));
  });
  EXPECT_THROW(dup.dim(), diffvi::ValueError);
  vi::Model bad_prior([](vi::Trace& t) { t.sample("a", vi::Normal(0, -1)); });
  EXPECT_THROW(bad_prior.dim(), diffvi::ValueError);
  vi::Model m = eight_schools();
  EXPECT_THROW(m.log_density(diffvi::zeros({2, 3}, DType::f64)), diffvi::ShapeError);
}
