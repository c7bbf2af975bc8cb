// The hierarchical models' exact posterior (exact.h): its log evidence against an independent
// computation (the dense marginal covariance of all observations, integrated on a plain grid),
// its moments against long NUTS runs, and its errors for bad input.
#include "exact.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "diffvi/vi/vi.h"
#include "models.h"

namespace dm = diffvi::repro::dmvi;

namespace {

// Under the sanitizers (several times slower) only the smaller NUTS comparison runs.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// log N(y; 0, Σ) for a dense SPD Σ (m×m row-major), by a Cholesky written separately from
// exact.cpp's.
double log_normal_dense(const std::vector<double>& y, std::vector<double> s) {
  const int m = static_cast<int>(y.size());
  for (int j = 0; j < m; ++j) {
    for (int k = 0; k < j; ++k) s[j * m + j] -= s[j * m + k] * s[j * m + k];
    s[j * m + j] = std::sqrt(s[j * m + j]);
    for (int i = j + 1; i < m; ++i) {
      for (int k = 0; k < j; ++k) s[i * m + j] -= s[i * m + k] * s[j * m + k];
      s[i * m + j] /= s[j * m + j];
    }
  }
  std::vector<double> z = y;
  double log_det = 0, quad = 0;
  for (int i = 0; i < m; ++i) {
    for (int k = 0; k < i; ++k) z[i] -= s[i * m + k] * z[k];
    z[i] /= s[i * m + i];
    quad += z[i] * z[i];
    log_det += 2 * std::log(s[i * m + i]);
  }
  return -0.5 * (m * std::log(2 * M_PI) + log_det + quad);
}

// log p(y) by the marginal covariance Cov(y_nk, y_mk') = [μ_γ] + σ_γ²[same group] +
// σ_β²[k = k'] + σ²[n = m, k = k'] on a 2-d grid over the two free log-scales.
double dense_log_evidence(const dm::HierSpec& h, const std::vector<double>& y, int n) {
  const int J = h.per_group, K = h.groups * J, m = n * K;
  const int points = 500;
  const double lo = -12, hi = 3, du = (hi - lo) / (points - 1);
  std::vector<double> terms;
  for (int a = 0; a < points; ++a) {
    for (int b = 0; b < points; ++b) {
      const double u[2] = {lo + a * du, lo + b * du};
      int next = 0;
      double sg = 1, sb = 1, sy = 1, log_prior = 0;
      auto take = [&](double& s) {
        s = std::exp(u[next]);
        log_prior += 0.5 * std::log(2 / M_PI) - 0.5 * s * s + u[next];
        ++next;
      };
      if (h.sigma_gamma) take(sg);
      if (h.sigma_beta) take(sb);
      if (h.sigma_y) take(sy);
      std::vector<double> cov(m * m, 0.0);
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < m; ++j) {
          const int ki = i % K, kj = j % K;
          double c = h.mu_gamma ? 1.0 : 0.0;
          if (ki / J == kj / J) c += sg * sg;
          if (ki == kj) c += sb * sb;
          if (i == j) c += sy * sy;
          cov[i * m + j] = c;
        }
      }
      terms.push_back(log_normal_dense(y, cov) + log_prior + 2 * std::log(du));
    }
  }
  double peak = terms[0];
  for (double t : terms) peak = std::max(peak, t);
  double s = 0;
  for (double t : terms) s += std::exp(t - peak);
  return peak + std::log(s);
}

}  // namespace

TEST(HierarchicalExact, LogEvidenceMatchesTheDenseMarginalCovariance) {
  // Hierarchical 5's layout (two free scales) on 3 observations, and hierarchical 3's.
  for (const dm::HierSpec h :
       {dm::HierSpec{3, 2, true, true, true, false}, dm::HierSpec{2, 2, true, true, false, true}}) {
    std::mt19937_64 eng(5);
    std::normal_distribution<double> normal(0.5, 1.3);
    const int n = 3, K = h.groups * h.per_group;
    std::vector<double> y(n * K);
    for (double& v : y) v = normal(eng);
    const dm::ExactPosterior e = dm::hierarchical_exact(h, y, n);
    EXPECT_NEAR(e.log_evidence, dense_log_evidence(h, y, n), 2e-3);
    ASSERT_EQ(e.mean.size(), static_cast<size_t>(K + h.groups + 3));
  }
}

TEST(HierarchicalExact, MomentsMatchLongNuts) {
  // Hierarchical 3 at N = 20 (σ_γ with two groups: a skewed, heavy-tailed log-scale) and
  // hierarchical 5 at N = 100 (the paper's headline model).
  for (const auto& [name, n] : {std::pair<const char*, int>{"hierarchical3", 20},
                                std::pair<const char*, int>{"hierarchical5", 100}}) {
    if (kSanitized && std::string(name) == "hierarchical5") continue;
    const dm::Problem p = dm::make_problem(name, n, 1);
    diffvi::vi::FitOptions o;
    o.method = "nuts";
    o.seed = 11;
    diffvi::vi::NutsOptions nuts;
    nuts.num_chains = 4;
    nuts.num_warmup = 500;
    nuts.num_samples = 1500;
    nuts.target_accept = 0.95;
    o.set_method_options(nuts);
    const diffvi::vi::Posterior post = diffvi::vi::fit(*p.model, o);
    const std::vector<double> z = post.draws().to_vector<double>();
    const int64_t d = p.model->dim(), draws = static_cast<int64_t>(z.size()) / d;
    for (int64_t j = 0; j < d; ++j) {
      double s = 0, s2 = 0;
      for (int64_t i = 0; i < draws; ++i) s += z[i * d + j], s2 += z[i * d + j] * z[i * d + j];
      const double m = s / draws, sd = std::sqrt(s2 / draws - m * m);
      // 6,000 draws; 0.1 sd allows for an effective sample size of a few hundred on the funnels.
      EXPECT_NEAR(m, p.exact_mean[j], 0.1 * p.exact_sd[j] + 1e-3) << name << " coordinate " << j;
      EXPECT_NEAR(sd, p.exact_sd[j], 0.1 * p.exact_sd[j]) << name << " coordinate " << j;
    }
  }
}

TEST(HierarchicalExact, BadInputIsAValueError) {
  const std::vector<double> y(20, 0.0);
  // Three free scales: no longer a 2-d quadrature.
  EXPECT_THROW(dm::hierarchical_exact({2, 5, true, true, true, true}, y, 2), diffvi::ValueError);
  // y is not n·K values.
  EXPECT_THROW(dm::hierarchical_exact({2, 5, true, true, true, false}, y, 3), diffvi::ValueError);
}
