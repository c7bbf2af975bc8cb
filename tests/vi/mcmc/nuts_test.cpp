// NUTS: moments of a correlated Gaussian and of Neal's funnel (centred, mild scale, and
// non-centred through the model API) with R-hat < 1.01; diagnostics on known chains.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"
#include "vi/vi_test_util.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

vi::NutsOptions quick_options(uint64_t seed) {
  vi::NutsOptions o;
  o.num_chains = 4;
  o.num_warmup = 500;
  o.num_samples = 1000;
  o.seed = seed;
  return o;
}

// Mean within 4 Monte-Carlo standard errors (sd / sqrt(ESS)).
void expect_mean(const vi::NutsResult& r, int64_t k, double expected, double sd) {
  EXPECT_NEAR(r.mean(k), expected, 4 * sd / std::sqrt(r.ess(k))) << "coordinate " << k;
}

}  // namespace

TEST(Nuts, CorrelatedGaussian) {
  // sd (1, 3), correlation 0.9: an anisotropic, strongly correlated target.
  const double s0 = 1, s1 = 3, rho = 0.9;
  const double det = s0 * s0 * s1 * s1 * (1 - rho * rho);
  const double p00 = s1 * s1 / det, p11 = s0 * s0 / det, p01 = -rho * s0 * s1 / det;
  auto f = [&](const double* z, int64_t n, double* lp, double* g) {
    for (int64_t i = 0; i < n; ++i) {
      const double a = z[2 * i], b = z[2 * i + 1] - 1.0;
      lp[i] = -0.5 * (p00 * a * a + 2 * p01 * a * b + p11 * b * b);
      g[2 * i] = -(p00 * a + p01 * b);
      g[2 * i + 1] = -(p01 * a + p11 * b);
    }
  };
  vi::NutsResult r = vi::nuts(f, 2, quick_options(1));
  EXPECT_LT(r.max_r_hat(), 1.01);
  EXPECT_GT(r.min_ess(), 400);
  EXPECT_EQ(r.divergences, 0);
  expect_mean(r, 0, 0.0, s0);
  expect_mean(r, 1, 1.0, s1);
  // sd within ~4 standard errors of a variance estimate (sd · sqrt(1/(2 ESS))).
  EXPECT_NEAR(r.sd(0), s0, 4 * s0 / std::sqrt(2 * r.ess(0)));
  EXPECT_NEAR(r.sd(1), s1, 4 * s1 / std::sqrt(2 * r.ess(1)));
  double c = 0;
  for (int64_t ch = 0; ch < r.num_chains; ++ch) {
    for (int64_t i = 0; i < r.num_samples; ++i) {
      c += (r.draw(ch, i, 0) - r.mean(0)) * (r.draw(ch, i, 1) - r.mean(1));
    }
  }
  c /= r.num_chains * r.num_samples - 1;
  EXPECT_NEAR(c / (r.sd(0) * r.sd(1)), rho, 0.03);
  // The adapted metric approximates the marginal variances.
  EXPECT_NEAR(r.inverse_metric[0][1] / r.inverse_metric[0][0], 9.0, 4.0);
  EXPECT_GT(r.mean_accept_stat, 0.7);
}

TEST(Nuts, CentredFunnel) {
  // v ~ N(0, 1.5²), x | v ~ N(0, exp(v)): the funnel with a neck NUTS can still enter; a
  // scale of 3 needs far longer runs to get the neck right (that is what non-centring fixes).
  auto f = [](const double* z, int64_t n, double* lp, double* g) {
    for (int64_t i = 0; i < n; ++i) {
      const double v = z[2 * i], x = z[2 * i + 1];
      lp[i] = -v * v / (2 * 2.25) - 0.5 * v - 0.5 * x * x * std::exp(-v);
      g[2 * i] = -v / 2.25 - 0.5 + 0.5 * x * x * std::exp(-v);
      g[2 * i + 1] = -x * std::exp(-v);
    }
  };
  // Seed 3: on this hard target about 1 seed in 20 misses the R-hat and divergence bounds below,
  // with either random stream (seeds 0-19: seed 4 with std::mt19937_64, seeds 2 and 16 with
  // Philox, at R-hat 1.015-1.016 and 97-108 divergences); the others pass with room.
  vi::NutsOptions o = quick_options(3);
  o.target_accept = 0.95;
  o.num_samples = 2000;
  vi::NutsResult r = vi::nuts(f, 2, o);
  EXPECT_LT(r.max_r_hat(), 1.01);
  expect_mean(r, 0, 0.0, 1.5);
  EXPECT_NEAR(r.sd(0), 1.5, 0.15);  // ~10%: the neck is under-explored at this length
  EXPECT_LT(r.divergences, 0.01 * r.num_chains * r.num_samples);
}

TEST(Nuts, NonCentredFunnelThroughModel) {
  // Neal's funnel, v ~ N(0, 3²), x_k = exp(v/2) x̃_k, x̃ ~ N(0, I_4), written in the model API.
  vi::Model m([](vi::Trace& t) {
    Tensor v = t.sample("v", vi::Normal(0, 3));
    Tensor x_raw = t.sample("x_raw", vi::Normal(0, 1), {4});
    t.deterministic("x", diffvi::exp(v * 0.5) * x_raw);
  });
  vi::FitOptions opt;
  opt.method = "nuts";
  opt.seed = 3;
  vi::NutsOptions nuts = quick_options(3);
  nuts.num_warmup = vitest::scaled<int64_t>(500, 150);
  nuts.num_samples = vitest::scaled<int64_t>(1000, 200);
  opt.set_method_options(nuts);
  vi::Posterior post = vi::fit(m, opt);
  const vi::NutsResult& r = *post.sampler_result<vi::NutsResult>();
  EXPECT_LT(r.max_r_hat(), vitest::scaled(1.01, 1.05));
  expect_mean(r, 0, 0.0, 3.0);
  EXPECT_NEAR(r.sd(0), 3.0, 4 * 3.0 / std::sqrt(2 * r.ess(0)));
  for (int k = 1; k < 5; ++k) expect_mean(r, k, 0.0, 1.0);
  EXPECT_EQ(r.divergences, 0);
  // Constrained draws: P(|x_0| < exp(v/2)) = P(|x̃| < 1) ≈ 0.683.
  auto sites = m.constrain(post.draws());
  std::vector<double> x = diffvi::select(sites.at("x"), 1, 0).to_vector<double>();
  std::vector<double> v = diffvi::squeeze(sites.at("v"), 1).to_vector<double>();
  double inside = 0;
  for (size_t i = 0; i < x.size(); ++i) inside += std::abs(x[i]) < std::exp(v[i] / 2);
  EXPECT_NEAR(inside / x.size(), 0.6827, vitest::scaled(0.03, 0.1));
}

TEST(Nuts, Diagnostics) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> nd;
  // Independent chains: R-hat ≈ 1, ESS ≈ the number of draws.
  std::vector<std::vector<double>> iid(4, std::vector<double>(1000));
  for (auto& c : iid)
    for (auto& v : c) v = nd(rng);
  EXPECT_NEAR(vi::split_rhat(iid), 1.0, 0.01);
  EXPECT_NEAR(vi::effective_sample_size(iid), 4000, 600);
  // AR(1) with φ = 0.8: ESS ≈ n (1 - φ) / (1 + φ).
  std::vector<std::vector<double>> ar(4, std::vector<double>(5000));
  for (auto& c : ar) {
    double x = nd(rng) / std::sqrt(1 - 0.64);
    for (auto& v : c) v = x = 0.8 * x + nd(rng);
  }
  EXPECT_NEAR(vi::effective_sample_size(ar) / (20000 * 0.2 / 1.8), 1.0, 0.25);
  // A chain stuck elsewhere: R-hat far above 1.
  for (auto& v : iid[0]) v += 3;
  EXPECT_GT(vi::split_rhat(iid), 1.5);
}

TEST(Nuts, EightSchoolsMatchesReference) {
  // Non-centred eight schools; reference NumPyro NUTS with ~36k effective draws:
  // μ = 4.37 ± 3.32, τ = 3.61 ± 3.20.
  Tensor y = diffvi::tensor({28, 8, -3, 7, -1, 1, 18, 12}, DType::f64);
  Tensor sigma = diffvi::tensor({15, 10, 16, 11, 9, 11, 10, 18}, DType::f64);
  vi::Model m([y, sigma](vi::Trace& t) {
    Tensor mu = t.sample("mu", vi::Normal(0, 5));
    Tensor tau = t.sample("tau", vi::HalfCauchy(5));
    Tensor eta = t.sample("eta", vi::Normal(0, 1), {8});
    t.observe("y", vi::Normal(mu + tau * eta, sigma), y);
  });
  vi::FitOptions opt;
  vi::NutsOptions nuts = quick_options(8);
  opt.set_method_options(nuts);
  if (vitest::kSanitized) {  // exercise the path only; the statistics need the full run
    nuts.num_chains = 2;
    nuts.num_warmup = 60;
    nuts.num_samples = 40;
    opt.set_method_options(nuts);
    vi::Posterior post = vi::fit(m, opt);
    EXPECT_EQ(post.draws().size(0), 80);
    return;
  }
  vi::Posterior post = vi::fit(m, opt);
  const vi::NutsResult& r = *post.sampler_result<vi::NutsResult>();
  EXPECT_LT(r.max_r_hat(), 1.01);
  EXPECT_LT(r.divergences, 20);
  auto sites = m.constrain(post.draws());
  std::vector<double> tau = sites.at("tau").to_vector<double>();
  double tau_mean = 0;
  for (double v : tau) tau_mean += v;
  tau_mean /= tau.size();
  expect_mean(r, 0, 4.37, 3.32);
  // τ's ESS is about that of log τ (coordinate 1).
  EXPECT_NEAR(tau_mean, 3.61, 4 * 3.20 / std::sqrt(r.ess(1)));
}
