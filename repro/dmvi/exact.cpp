// Exact posterior moments of the hierarchical models by quadrature over their log-scales.
#include "exact.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "diffvi/tensor/errors.h"

namespace diffvi::repro::dmvi {

namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

// Sufficient statistics of y and the fixed layout of x = (μ_γ?, γ[G], β[K]).
struct Problem {
  HierSpec h;
  int64_t n;
  int G, K, D, first_gamma, first_beta;
  std::vector<double> ybar;
  double sum_sq = 0;  // Σ_n |y_n|²
};

// One grid point: the log of the (unnormalised) density of u and x's conditional moments.
struct Conditional {
  double log_weight;
  std::vector<double> mean, var;  // of x given the scales, [D]
};

// In-place Cholesky A = L Lᵀ (lower triangle), row-major D×D; false if not positive definite.
bool cholesky(std::vector<double>& a, int D) {
  for (int j = 0; j < D; ++j) {
    double s = a[j * D + j];
    for (int k = 0; k < j; ++k) s -= a[j * D + k] * a[j * D + k];
    if (!(s > 0)) return false;
    const double l = std::sqrt(s);
    a[j * D + j] = l;
    for (int i = j + 1; i < D; ++i) {
      double t = a[i * D + j];
      for (int k = 0; k < j; ++k) t -= a[i * D + k] * a[j * D + k];
      a[i * D + j] = t / l;
    }
  }
  return true;
}

// Solves L Lᵀ x = b in place.
void cholesky_solve(const std::vector<double>& l, int D, std::vector<double>& b) {
  for (int i = 0; i < D; ++i) {
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= l[i * D + k] * b[k];
    b[i] = s / l[i * D + i];
  }
  for (int i = D - 1; i >= 0; --i) {
    double s = b[i];
    for (int k = i + 1; k < D; ++k) s -= l[k * D + i] * b[k];
    b[i] = s / l[i * D + i];
  }
}

// σ_γ, σ_β, σ for the log-scales u of the free scales (1 for the fixed ones).
std::array<double, 3> scales(const HierSpec& h, const std::vector<double>& u) {
  std::array<double, 3> s{1, 1, 1};
  size_t k = 0;
  if (h.sigma_gamma) s[0] = std::exp(u[k++]);
  if (h.sigma_beta) s[1] = std::exp(u[k++]);
  if (h.sigma_y) s[2] = std::exp(u[k++]);
  return s;
}

// moments = false leaves mean and var empty (the grid-finding passes need only the weight).
Conditional conditional(const Problem& p, const std::vector<double>& u, bool moments) {
  // Non-centred: x = (μ_γ, g, e) ~ N(0, I) with γ_i = μ_γ + σ_γ g_i and β_k = γ_i + σ_β e_k, so
  // β = B x and the scales only scale B's columns (a centred precision would hold 1/σ² terms of
  // 10¹⁷ near σ → 0 and lose every digit of its log-determinant).
  const auto [sg, sb, sy] = scales(p.h, u);
  const int D = p.D, J = p.h.per_group;
  // t[o * D + j]: original coordinate o (μ_γ, γ, β in x's layout) as a row over x.
  std::vector<double> t(D * D, 0.0);
  if (p.h.mu_gamma) t[0] = 1;
  for (int i = 0; i < p.G; ++i) {
    const int gi = p.first_gamma + i;
    if (p.h.mu_gamma) t[gi * D + 0] = 1;
    t[gi * D + gi] = sg;
    for (int j = 0; j < J; ++j) {
      const int bk = p.first_beta + i * J + j;
      for (int c = 0; c < D; ++c) t[bk * D + c] = t[gi * D + c];
      t[bk * D + bk] = sb;
    }
  }
  // A = I + (n/σ²) BᵀB and b = (n/σ²) Bᵀȳ, B the β rows of t.
  const double py = p.n / (sy * sy);
  std::vector<double> a(D * D, 0.0), b(D, 0.0);
  for (int i = 0; i < D; ++i) a[i * D + i] = 1;
  for (int k = 0; k < p.K; ++k) {
    const double* row = &t[(p.first_beta + k) * D];
    for (int i = 0; i < D; ++i) {
      if (row[i] == 0) continue;
      b[i] += py * row[i] * p.ybar[k];
      for (int j = 0; j < D; ++j) a[i * D + j] += py * row[i] * row[j];
    }
  }
  Conditional c;
  if (!cholesky(a, D)) {
    c.log_weight = -std::numeric_limits<double>::infinity();
    return c;
  }
  double half_log_det = 0;
  for (int i = 0; i < D; ++i) half_log_det += std::log(a[i * D + i]);
  std::vector<double> m = b;
  cholesky_solve(a, D, m);
  double bm = 0;
  for (int i = 0; i < D; ++i) bm += b[i] * m[i];
  // log p(y | s) with a standard-normal prior on x.
  double lw = -half_log_det + 0.5 * bm - p.sum_sq / (2 * sy * sy) -
              0.5 * p.n * p.K * (kLog2Pi + 2 * std::log(sy));
  // HalfNormal(1) priors on the free scales and the Jacobian of σ = e^u.
  for (double ui : u) lw += 0.5 * std::log(2 / M_PI) - 0.5 * std::exp(2 * ui) + ui;
  c.log_weight = lw;
  if (!moments) return c;
  // Cov(x) = A⁻¹ column by column; then the original coordinates' means and variances.
  std::vector<double> cov(D * D);
  for (int i = 0; i < D; ++i) {
    std::vector<double> e(D, 0.0);
    e[i] = 1;
    cholesky_solve(a, D, e);
    for (int j = 0; j < D; ++j) cov[j * D + i] = e[j];
  }
  c.mean.assign(D, 0.0);
  c.var.assign(D, 0.0);
  for (int o = 0; o < D; ++o) {
    const double* row = &t[o * D];
    for (int i = 0; i < D; ++i) {
      if (row[i] == 0) continue;
      c.mean[o] += row[i] * m[i];
      for (int j = 0; j < D; ++j) c.var[o] += row[i] * cov[i * D + j] * row[j];
    }
  }
  return c;
}

// The grid points of a box [lo, hi] per axis with `points` per axis, as u vectors.
std::vector<std::vector<double>> grid(const std::vector<double>& lo, const std::vector<double>& hi,
                                      int points) {
  std::vector<std::vector<double>> out{{}};
  for (size_t k = 0; k < lo.size(); ++k) {
    std::vector<std::vector<double>> next;
    for (const auto& prefix : out) {
      for (int i = 0; i < points; ++i) {
        auto v = prefix;
        v.push_back(lo[k] + (hi[k] - lo[k]) * i / (points - 1));
        next.push_back(std::move(v));
      }
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

ExactPosterior hierarchical_exact(const HierSpec& h, const std::vector<double>& y, int64_t n,
                                  int points) {
  Problem p{h, n, h.groups, h.groups * h.per_group, 0, 0, 0, {}, 0};
  p.first_gamma = h.mu_gamma ? 1 : 0;
  p.first_beta = p.first_gamma + p.G;
  p.D = p.first_beta + p.K;
  const int free_scales = int(h.sigma_gamma) + int(h.sigma_beta) + int(h.sigma_y);
  if (free_scales > 2 || points < 8 || n < 1) {
    throw ValueError(
        "hierarchical_exact: needs at most 2 free scales, points >= 8 and n >= 1 (got " +
        std::to_string(free_scales) + " scales, points " + std::to_string(points) + ", n " +
        std::to_string(n) + ")");
  }
  if (static_cast<int64_t>(y.size()) != n * p.K) {
    throw ValueError("hierarchical_exact: y has " + std::to_string(y.size()) +
                     " values, expected n·K = " + std::to_string(n * p.K));
  }
  p.ybar.assign(p.K, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < p.K; ++k) {
      p.ybar[k] += y[i * p.K + k] / n;
      p.sum_sq += y[i * p.K + k] * y[i * p.K + k];
    }
  }
  // A wide box of log-scales, refined three times to the part within e⁻³⁰ of the peak seen so
  // far (one cell wider on every side), so a narrow peak between coarse points is still found.
  const int per_axis = free_scales == 1 ? 8 * points : points;
  std::vector<double> lo(free_scales, -20.0), hi(free_scales, 5.0);
  std::vector<std::vector<double>> fine;
  std::vector<Conditional> cs;
  double peak = 0;
  for (int pass = 0; pass < 4; ++pass) {
    if (pass > 0) {
      std::vector<double> nlo(free_scales, 1e300), nhi(free_scales, -1e300);
      for (size_t i = 0; i < fine.size(); ++i) {
        if (cs[i].log_weight < peak - 30) continue;
        for (int k = 0; k < free_scales; ++k) {
          nlo[k] = std::min(nlo[k], fine[i][k]);
          nhi[k] = std::max(nhi[k], fine[i][k]);
        }
      }
      for (int k = 0; k < free_scales; ++k) {
        const double cell = (hi[k] - lo[k]) / (per_axis - 1);
        lo[k] = nlo[k] - cell, hi[k] = nhi[k] + cell;
      }
    }
    fine = grid(lo, hi, per_axis);
    cs.clear();
    cs.reserve(fine.size());
    peak = -std::numeric_limits<double>::infinity();
    for (const auto& u : fine) {
      cs.push_back(conditional(p, u, pass == 3));
      peak = std::max(peak, cs.back().log_weight);
    }
  }
  // Weighted first and second moments of (u, x) over the grid.
  std::vector<double> su(free_scales, 0.0), su2(free_scales, 0.0), sx(p.D, 0.0), sx2(p.D, 0.0);
  double total = 0;
  for (size_t i = 0; i < fine.size(); ++i) {
    const double w = std::exp(cs[i].log_weight - peak);
    if (w == 0) continue;
    total += w;
    for (int k = 0; k < free_scales; ++k)
      su[k] += w * fine[i][k], su2[k] += w * fine[i][k] * fine[i][k];
    for (int j = 0; j < p.D; ++j) {
      sx[j] += w * cs[i].mean[j];
      sx2[j] += w * (cs[i].mean[j] * cs[i].mean[j] + cs[i].var[j]);
    }
  }
  double cell_area = 1;
  for (int k = 0; k < free_scales; ++k) cell_area *= (hi[k] - lo[k]) / (per_axis - 1);
  ExactPosterior r;
  r.log_evidence = peak + std::log(total * cell_area);
  auto push = [&](double s, double s2) {
    const double m = s / total;
    r.mean.push_back(m);
    r.sd.push_back(std::sqrt(std::max(0.0, s2 / total - m * m)));
  };
  // The model's site order: sigma_gamma, mu_gamma, gamma, sigma_beta, beta, sigma.
  int k = 0;
  if (h.sigma_gamma) push(su[k], su2[k]), ++k;
  if (h.mu_gamma) push(sx[0], sx2[0]);
  for (int i = 0; i < p.G; ++i) push(sx[p.first_gamma + i], sx2[p.first_gamma + i]);
  if (h.sigma_beta) push(su[k], su2[k]), ++k;
  for (int i = 0; i < p.K; ++i) push(sx[p.first_beta + i], sx2[p.first_beta + i]);
  if (h.sigma_y) push(su[k], su2[k]), ++k;
  return r;
}

}  // namespace diffvi::repro::dmvi
