// Warmup adaptation for HMC, as in Stan: dual-averaging step size (Hoffman & Gelman 2014) and a
// diagonal inverse metric estimated over doubling windows (75-step initial buffer, windows of
// 25, 50, 100, ..., a 50-step terminal buffer; 15% / 75% / 10% of a short warmup).
#pragma once

#include <cstdint>
#include <vector>

namespace diffvi::vi {

struct DualAveragingConfig {
  double target_accept = 0.8;
  double gamma = 0.05, kappa = 0.75, t0 = 10;
};

class DualAveraging {
 public:
  explicit DualAveraging(DualAveragingConfig config = {}) : config_(config) {}
  // Restarts around step size `epsilon` (mu = log(10 ε)).
  void restart(double epsilon);
  // One update from the transition's mean acceptance statistic; returns the next step size.
  double update(double accept_stat);
  // The averaged step size to use after warmup.
  double final_step_size() const;

 private:
  DualAveragingConfig config_;
  double mu_ = 0, s_bar_ = 0, x_bar_ = 0;
  int64_t counter_ = 0;
};

class WindowedAdaptation {
 public:
  WindowedAdaptation(int64_t num_warmup, int64_t dim);
  // Feeds the position after warmup iteration `iteration` (0-based, in order). Returns true
  // when a window just closed and `inverse_metric` was updated (regularised sample variances).
  bool update(const std::vector<double>& q, std::vector<double>& inverse_metric);

 private:
  bool in_window() const;
  bool window_closes() const;
  void next_window();

  int64_t num_warmup_, dim_;
  int64_t init_buffer_ = 75, term_buffer_ = 50, base_window_ = 25;
  int64_t counter_ = 0, window_size_ = 25, next_window_ = 0;
  bool enabled_ = true;
  // Welford accumulators.
  int64_t n_ = 0;
  std::vector<double> mean_, m2_;
};

}  // namespace diffvi::vi
