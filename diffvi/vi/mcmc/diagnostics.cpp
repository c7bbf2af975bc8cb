// Split R-hat and effective sample size.
#include "diffvi/vi/mcmc/diagnostics.h"

#include <algorithm>
#include <cmath>

#include "diffvi/tensor/errors.h"

namespace diffvi::vi {

namespace {

std::vector<std::vector<double>> split(const std::vector<std::vector<double>>& chains) {
  if (chains.empty()) throw ValueError("diagnostics: no chains");
  const size_t n = chains[0].size();
  for (const auto& c : chains) {
    if (c.size() != n) throw ValueError("diagnostics: chains must have equal lengths");
  }
  if (n < 4) throw ValueError("diagnostics: need at least 4 draws per chain");
  const size_t half = n / 2;
  std::vector<std::vector<double>> out;
  for (const auto& c : chains) {
    out.emplace_back(c.begin(), c.begin() + half);
    out.emplace_back(c.end() - half, c.end());  // drops the middle draw of odd lengths
  }
  return out;
}

double mean_of(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v;
  return s / x.size();
}

}  // namespace

double split_rhat(const std::vector<std::vector<double>>& chains) {
  const auto parts = split(chains);
  const double m = parts.size(), n = parts[0].size();
  std::vector<double> means, vars;
  for (const auto& c : parts) {
    const double mu = mean_of(c);
    double ss = 0;
    for (double v : c) ss += (v - mu) * (v - mu);
    means.push_back(mu);
    vars.push_back(ss / (n - 1));
  }
  const double w = mean_of(vars);
  const double grand = mean_of(means);
  double b = 0;
  for (double mu : means) b += (mu - grand) * (mu - grand);
  b *= n / (m - 1);
  if (w == 0) return b == 0 ? 1.0 : INFINITY;
  const double var_plus = (n - 1) / n * w + b / n;
  return std::sqrt(var_plus / w);
}

double effective_sample_size(const std::vector<std::vector<double>>& chains) {
  const auto parts = split(chains);
  const size_t m = parts.size(), n = parts[0].size();
  std::vector<double> means(m), chain_var(m);
  for (size_t c = 0; c < m; ++c) means[c] = mean_of(parts[c]);
  // Autocovariance at lag t of every chain (biased estimator, / n), averaged over chains.
  auto mean_acov = [&](size_t t) {
    double total = 0;
    for (size_t c = 0; c < m; ++c) {
      double s = 0;
      for (size_t i = 0; i + t < n; ++i)
        s += (parts[c][i] - means[c]) * (parts[c][i + t] - means[c]);
      total += s / n;
    }
    return total / m;
  };
  double mean_var = 0;
  for (size_t c = 0; c < m; ++c) {
    double s = 0;
    for (double v : parts[c]) s += (v - means[c]) * (v - means[c]);
    mean_var += s / (n - 1);
  }
  mean_var /= m;
  double var_plus = mean_var * (n - 1) / n;
  if (m > 1) {
    const double grand = mean_of(means);
    double b = 0;
    for (double mu : means) b += (mu - grand) * (mu - grand);
    var_plus += b / (m - 1);
  }
  if (!(var_plus > 0)) return static_cast<double>(m * n);
  std::vector<double> rho(n + 1, 0.0);
  rho[0] = 1;
  double even = 1, odd = 1 - (mean_var - mean_acov(1)) / var_plus;
  rho[1] = odd;
  size_t s = 1;
  while (s + 4 < n && even + odd > 0) {
    even = 1 - (mean_var - mean_acov(s + 1)) / var_plus;
    odd = 1 - (mean_var - mean_acov(s + 2)) / var_plus;
    if (even + odd >= 0) {
      rho[s + 1] = even;
      rho[s + 2] = odd;
    }
    s += 2;
  }
  const size_t max_s = s;
  if (rho[max_s] > 0 && max_s + 1 <= n) rho[max_s + 1] = rho[max_s];  // antithetic chains
  for (size_t k = 1; k + 3 <= max_s; k += 2) {                        // initial monotone sequence
    if (rho[k + 1] + rho[k + 2] > rho[k - 1] + rho[k]) {
      rho[k + 1] = (rho[k - 1] + rho[k]) / 2;
      rho[k + 2] = rho[k + 1];
    }
  }
  double tau = -1;  // Geyer's truncated estimate (Stan's improved form for antithetic chains)
  for (size_t k = 0; k < max_s; ++k) tau += 2 * rho[k];
  tau += rho[max_s + 1 <= n ? max_s + 1 : n];
  const double total = static_cast<double>(m * n);
  if (!(tau > 0)) return total * std::log10(total);
  return std::min(total / tau, total * std::log10(total));
}

}  // namespace diffvi::vi
