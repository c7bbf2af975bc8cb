// Distributions: log_prob against closed forms and numerical integration, moments and entropy
// against quadrature, reparameterised draws against the moments, validation errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

double lp1(const vi::Distribution& d, double x) {
  return d.log_prob(diffvi::scalar_tensor(x, DType::f64)).item();
}

// log p on the midpoints of n cells over [a, b], in one batched evaluation.
struct Grid {
  std::vector<double> x, lp;
  double h;
};

Grid grid(const vi::Distribution& d, double a, double b, int n) {
  Grid g;
  g.h = (b - a) / n;
  for (int i = 0; i < n; ++i) g.x.push_back(a + (i + 0.5) * g.h);
  g.lp = d.log_prob(diffvi::from_vector(g.x, {n}, DType::f64)).to_vector<double>();
  return g;
}

// Midpoint quadrature of p·f over [a, b].
double integrate(const vi::Distribution& d, double a, double b,
                 const std::function<double(double x, double lp)>& f, int n = 20000) {
  const Grid g = grid(d, a, b, n);
  double s = 0;
  for (int i = 0; i < n; ++i) s += f(g.x[i], g.lp[i]);
  return s * g.h;
}

struct Quadrature {
  double mass, mean, var, entropy;
};

Quadrature quad(const vi::Distribution& d, double a, double b, int n = 20000) {
  const Grid g = grid(d, a, b, n);
  double mass = 0, mean = 0, var = 0, ent = 0;
  for (int i = 0; i < n; ++i) {
    const double p = std::exp(g.lp[i]);
    mass += p;
    mean += g.x[i] * p;
    if (std::isfinite(g.lp[i])) ent -= p * g.lp[i];
  }
  mean /= mass;
  for (int i = 0; i < n; ++i) var += (g.x[i] - mean) * (g.x[i] - mean) * std::exp(g.lp[i]);
  return {mass * g.h, mean, var * g.h, ent * g.h};
}

void expect_moments_match(const vi::Distribution& d, double a, double b, double tol) {
  const Quadrature q = quad(d, a, b);
  EXPECT_NEAR(q.mass, 1.0, tol) << d.name();
  EXPECT_NEAR(q.mean, d.mean().item(), tol * (1 + std::abs(q.mean))) << d.name();
  EXPECT_NEAR(q.var, d.variance().item(), tol * (1 + q.var)) << d.name();
  EXPECT_NEAR(q.entropy, d.entropy().item(), tol * 10) << d.name();
}

// Sample mean and variance of n draws agree with the closed forms within 5 standard errors.
void expect_draws_match(const vi::Distribution& d, int64_t n = 40000) {
  diffvi::Generator gen(7);
  std::vector<double> x = d.sample({n}, gen).to_vector<double>();
  double m = 0, v = 0;
  for (double a : x) m += a;
  m /= n;
  for (double a : x) v += (a - m) * (a - m);
  v /= n - 1;
  const double mu = d.mean().item(), var = d.variance().item();
  EXPECT_NEAR(m, mu, 5 * std::sqrt(var / n)) << d.name();
  EXPECT_NEAR(v, var, 0.05 * var) << d.name();
}

}  // namespace

TEST(Distributions, NormalClosedForm) {
  vi::Normal n(1.5, 2.0);
  const double x = -0.3, z = (x - 1.5) / 2.0;
  EXPECT_NEAR(lp1(n, x), -0.5 * z * z - std::log(2.0) - 0.5 * std::log(2 * M_PI), 1e-12);
  expect_moments_match(n, -20, 23, 1e-6);
  expect_draws_match(n);
}

TEST(Distributions, LogNormalHalfNormalHalfCauchy) {
  vi::LogNormal ln(0.2, 0.5);
  const double x = 1.7;
  EXPECT_NEAR(
      lp1(ln, x),
      -std::log(x * 0.5 * std::sqrt(2 * M_PI)) - std::pow(std::log(x) - 0.2, 2) / (2 * 0.25),
      1e-12);
  expect_moments_match(ln, 1e-9, 40, 1e-5);
  expect_draws_match(ln);

  vi::HalfNormal hn(2.0);
  EXPECT_NEAR(lp1(hn, 1.0), std::log(2.0) + std::log(1 / (2 * std::sqrt(2 * M_PI))) - 0.125, 1e-12);
  EXPECT_EQ(lp1(hn, -1.0), -INFINITY);
  expect_moments_match(hn, 0, 30, 1e-6);
  expect_draws_match(hn);

  vi::HalfCauchy hc(5.0);
  EXPECT_NEAR(lp1(hc, 3.0), std::log(2 / (M_PI * 5 * (1 + 0.36))), 1e-12);
  // Heavy tail: the density integrates to 1 - (2/π) atan(b/σ) on [0, b].
  EXPECT_NEAR(integrate(
                  hc, 0, 1000, [](double, double l) { return std::exp(l); }, 200000),
              1 - 2 / M_PI * std::atan(5.0 / 1000), 1e-6);
  const double ent = integrate(
      hc, 0, 1e5, [](double, double l) { return -std::exp(l) * l; }, 400000);
  EXPECT_NEAR(ent, hc.entropy().item(), 2e-3);
  // The median of HalfCauchy(σ) is σ.
  diffvi::Generator gen(3);
  std::vector<double> d = hc.sample({20000}, gen).to_vector<double>();
  std::nth_element(d.begin(), d.begin() + 10000, d.end());
  EXPECT_NEAR(d[10000], 5.0, 0.25);
}

TEST(Distributions, GammaBetaUniform) {
  vi::Gamma g(2.5, 1.5);
  const double x = 0.8;
  EXPECT_NEAR(lp1(g, x), 2.5 * std::log(1.5) + 1.5 * std::log(x) - 1.5 * x - std::lgamma(2.5),
              1e-12);
  expect_moments_match(g, 0, 40, 1e-6);
  expect_draws_match(g);
  expect_draws_match(vi::Gamma(0.5, 2.0));  // the α < 1 branch

  vi::Beta b(2.0, 3.5);
  EXPECT_NEAR(lp1(b, 0.3),
              std::log(0.3) + 2.5 * std::log(0.7) -
                  (std::lgamma(2.0) + std::lgamma(3.5) - std::lgamma(5.5)),
              1e-12);
  expect_moments_match(b, 0, 1, 1e-6);
  expect_draws_match(b);

  vi::Uniform u(-1.0, 3.0);
  EXPECT_NEAR(lp1(u, 0.5), -std::log(4.0), 1e-12);
  EXPECT_EQ(lp1(u, 3.5), -INFINITY);
  expect_moments_match(u, -2, 4, 1e-4);
  expect_draws_match(u);
  EXPECT_EQ(u.support().kind, vi::Support::Kind::interval);
}

TEST(Distributions, BatchShapesAndDtypes) {
  vi::Normal n(diffvi::zeros({3, 1}, DType::f32), diffvi::ones({4}, DType::f32));
  EXPECT_EQ(n.batch_shape(), (diffvi::Shape{3, 4}));
  diffvi::Generator gen(1);
  Tensor x = n.rsample({5}, gen);
  EXPECT_EQ(x.shape(), (diffvi::Shape{5, 3, 4}));
  EXPECT_EQ(x.dtype(), DType::f32);
  EXPECT_EQ(n.log_prob(x).shape(), (diffvi::Shape{5, 3, 4}));
  // f64 parameters score f32 values in f32 and vice versa.
  vi::Normal s(0.0, 1.0);
  EXPECT_EQ(s.log_prob(diffvi::zeros({2}, DType::f32)).dtype(), DType::f32);
  EXPECT_NEAR(s.log_prob(diffvi::zeros({2}, DType::f32)).to_vector<double>()[0],
              -0.5 * std::log(2 * M_PI), 1e-6);
}

TEST(Distributions, MultivariateNormal) {
  Tensor cov = diffvi::from_vector(std::vector<double>{2.0, 0.6, 0.6, 1.0}, {2, 2}, DType::f64);
  auto mvn = vi::MultivariateNormal::from_covariance(diffvi::tensor({1.0, -1.0}, DType::f64), cov);
  // Closed form: -½ rᵀΣ⁻¹r - ½ log|2πΣ|.
  const double det = 2.0 - 0.36, r0 = 0.5 - 1.0, r1 = 0.5 + 1.0;
  const double quadf = (1.0 * r0 * r0 - 2 * 0.6 * r0 * r1 + 2.0 * r1 * r1) / det;
  Tensor x = diffvi::tensor({0.5, 0.5}, DType::f64);
  EXPECT_NEAR(mvn.log_prob(x).item(), -0.5 * quadf - 0.5 * std::log(4 * M_PI * M_PI * det), 1e-12);
  // Entropy ½ log|2πeΣ|.
  EXPECT_NEAR(mvn.entropy().item(), 0.5 * std::log(std::pow(2 * M_PI * M_E, 2) * det), 1e-12);
  // Draws reproduce the covariance.
  diffvi::Generator gen(5);
  std::vector<double> d = mvn.sample({40000}, gen).to_vector<double>();
  double c01 = 0, m0 = 0, m1 = 0;
  for (size_t i = 0; i < d.size(); i += 2) {
    m0 += d[i];
    m1 += d[i + 1];
  }
  m0 /= 40000;
  m1 /= 40000;
  for (size_t i = 0; i < d.size(); i += 2) c01 += (d[i] - m0) * (d[i + 1] - m1);
  EXPECT_NEAR(m0, 1.0, 0.03);
  EXPECT_NEAR(c01 / 39999, 0.6, 0.04);
  // Gradients of the triangular solve (in L and b) by central differences.
  auto res = diffvi::gradcheck(
      [](const std::vector<Tensor>& in) { return vi::solve_lower_triangular(in[0], in[1]); },
      {diffvi::from_vector(std::vector<double>{1.5, 0, 0.3, 0.8}, {2, 2}, DType::f64)
           .set_requires_grad(true),
       diffvi::from_vector(std::vector<double>{0.2, -0.7, 1.1, 0.4, 0.9, -0.1}, {3, 2}, DType::f64)
           .set_requires_grad(true)});
  EXPECT_TRUE(res.ok) << res.message;
}

TEST(Distributions, CategoricalAndMixture) {
  auto cat = vi::Categorical::from_probs(diffvi::tensor({0.2, 0.5, 0.3}, DType::f64));
  EXPECT_NEAR(cat.log_prob(diffvi::from_vector(std::vector<int64_t>{1}, {1})).item(), std::log(0.5),
              1e-12);
  EXPECT_NEAR(cat.entropy().item(),
              -(0.2 * std::log(0.2) + 0.5 * std::log(0.5) + 0.3 * std::log(0.3)), 1e-12);
  diffvi::Generator gen(2);
  std::vector<int64_t> draws = cat.sample({30000}, gen).to_vector<int64_t>();
  double ones = 0;
  for (int64_t k : draws) ones += k == 1;
  EXPECT_NEAR(ones / 30000, 0.5, 0.015);

  vi::MixtureSameFamily mix(
      vi::Categorical::from_probs(diffvi::tensor({0.3, 0.7}, DType::f64)),
      vi::Normal(diffvi::tensor({-2.0, 1.0}, DType::f64), diffvi::tensor({0.5, 1.5}, DType::f64)));
  const double x = 0.4;
  const double expect = std::log(0.3 * std::exp(lp1(vi::Normal(-2.0, 0.5), x)) +
                                 0.7 * std::exp(lp1(vi::Normal(1.0, 1.5), x)));
  EXPECT_NEAR(lp1(mix, x), expect, 1e-12);
  const Quadrature q = quad(mix, -15, 15);
  EXPECT_NEAR(q.mass, 1.0, 1e-6);
  EXPECT_NEAR(q.mean, mix.mean().item(), 1e-6);
  EXPECT_NEAR(q.var, mix.variance().item(), 1e-5);
  expect_draws_match(mix);
}

TEST(Distributions, InvalidParametersNameDistributionAndArgument) {
  auto expect_error = [](const std::function<void()>& f, const std::string& a,
                         const std::string& b) {
    try {
      f();
      ADD_FAILURE() << "no ValueError";
    } catch (const diffvi::ValueError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(a), std::string::npos) << msg;
      EXPECT_NE(msg.find(b), std::string::npos) << msg;
    }
  };
  expect_error([] { vi::Normal(0.0, -1.0); }, "Normal", "scale");
  expect_error([] { vi::HalfCauchy(0.0); }, "HalfCauchy", "scale");
  expect_error([] { vi::Gamma(-1.0, 1.0); }, "Gamma", "concentration");
  expect_error([] { vi::Gamma(1.0, 0.0); }, "Gamma", "rate");
  expect_error([] { vi::Beta(1.0, -2.0); }, "Beta", "concentration0");
  expect_error([] { vi::Uniform(1.0, 1.0); }, "Uniform", "high");
  expect_error(
      [] {
        vi::Categorical::from_probs(diffvi::tensor({0.5, 0.6}, DType::f64));
      },
      "Categorical", "sum to 1");
  expect_error(
      [] {
        vi::Categorical::from_probs(diffvi::tensor({1.5, -0.5}, DType::f64));
      },
      "Categorical", "non-negative");
  expect_error(
      [] {
        vi::MultivariateNormal(
            0.0, diffvi::from_vector(std::vector<double>{1, 0, 0, -1}, {2, 2}, DType::f64));
      },
      "MultivariateNormal", "scale_tril");
  expect_error([] { vi::Gamma(1.0, 1.0).rsample({1}, diffvi::default_generator()); }, "Gamma",
               "rsample");
  // Validation can be switched off (inference does, inside trajectories).
  vi::ValidationGuard off(false);
  EXPECT_NO_THROW(vi::Normal(0.0, -1.0));
}

TEST(Distributions, SpecialFunctions) {
  for (double x : {0.1, 0.7, 1.0, 2.5, 7.0, 40.0}) {
    const double h = 1e-5;
    EXPECT_NEAR(vi::digamma_host(x), (std::lgamma(x + h) - std::lgamma(x - h)) / (2 * h), 1e-6);
    EXPECT_NEAR(vi::trigamma_host(x), (vi::digamma_host(x + h) - vi::digamma_host(x - h)) / (2 * h),
                1e-5 * (1 + 1 / (x * x)));
  }
  EXPECT_NEAR(vi::digamma_host(1.0), -0.57721566490153286, 1e-12);
  auto res = diffvi::gradcheck(
      [](const std::vector<Tensor>& in) {
        return diffvi::add(vi::lgamma(in[0]), vi::digamma(in[0]));
      },
      {diffvi::tensor({0.6, 1.3, 4.0}, DType::f64).set_requires_grad(true)});
  EXPECT_TRUE(res.ok) << res.message;
}
