#include "diffvi/diffusion/schedules/discrete_schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

namespace {

std::vector<double> linear_betas(int64_t n, double start, double end) {
  if (n < 2)
    throw ValueError("DiscreteLinearBeta: need at least 2 steps, got " + std::to_string(n));
  std::vector<double> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) b[i] = start + (end - start) * i / static_cast<double>(n - 1);
  return b;
}

}  // namespace

DiscreteSchedule::DiscreteSchedule(std::vector<double> betas, bool warn)
    : betas_(std::move(betas)) {
  if (betas_.size() < 2) throw ValueError("DiscreteSchedule: need at least 2 betas");
  const double n = static_cast<double>(betas_.size());
  double acc = 0;
  for (size_t i = 0; i < betas_.size(); ++i) {
    if (!(betas_[i] > 0 && betas_[i] < 1)) {
      throw ValueError("DiscreteSchedule: beta[" + std::to_string(i) +
                       "] = " + std::to_string(betas_[i]) + " is not in (0, 1)");
    }
    acc += 0.5 * std::log1p(-betas_[i]);
    log_alpha_.push_back(acc);
    t_.push_back(static_cast<double>(i + 1) / n);
  }
  if (warn && alpha_bar_T() > 0.01) {
    std::fprintf(stderr,
                 "diffvi: warning: discrete schedule with %zu steps ends at alpha_bar_T = %.3g "
                 "(> 0.01): the chain does not reach noise, so sampling from N(0, I) is biased\n",
                 betas_.size(), alpha_bar_T());
  }
}

double DiscreteSchedule::alpha_bar_at(int64_t n) const {
  if (n < 1 || n > size()) throw ValueError("DiscreteSchedule::alpha_bar_at: step out of range");
  return std::exp(2 * log_alpha_[n - 1]);
}

int64_t DiscreteSchedule::segment(double t) const {
  // Segment k joins t_k and t_{k+1}; out-of-range times use the end segments (extrapolation).
  auto it = std::upper_bound(t_.begin(), t_.end(), t);
  int64_t k = static_cast<int64_t>(it - t_.begin()) - 1;
  return std::clamp<int64_t>(k, 0, size() - 2);
}

double DiscreteSchedule::log_alpha(double t) const {
  const int64_t k = segment(t);
  const double w = (t - t_[k]) / (t_[k + 1] - t_[k]);
  return log_alpha_[k] + w * (log_alpha_[k + 1] - log_alpha_[k]);
}

double DiscreteSchedule::d_log_alpha_dt(double t) const {
  const int64_t k = segment(t);
  return (log_alpha_[k + 1] - log_alpha_[k]) / (t_[k + 1] - t_[k]);
}

double DiscreteSchedule::t_of_lambda(double lambda) const {
  // log α is decreasing in t: search the reversed sequence.
  const double la = log_alpha_of_lambda(lambda);
  auto it = std::upper_bound(log_alpha_.begin(), log_alpha_.end(), la, std::greater<double>());
  int64_t k = std::clamp<int64_t>(static_cast<int64_t>(it - log_alpha_.begin()) - 1, 0, size() - 2);
  const double w = (la - log_alpha_[k]) / (log_alpha_[k + 1] - log_alpha_[k]);
  return t_[k] + w * (t_[k + 1] - t_[k]);
}

DiscreteLinearBeta::DiscreteLinearBeta(int64_t n, double beta_start, double beta_end, bool warn)
    : DiscreteSchedule(linear_betas(n, beta_start, beta_end), warn) {}

}  // namespace diffvi::diffusion
