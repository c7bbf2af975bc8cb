// Dual averaging and windowed metric adaptation (Stan's stepsize_adaptation and
// windowed_adaptation).
#include "diffvi/vi/mcmc/adaptation.h"

#include <algorithm>
#include <cmath>

namespace diffvi::vi {

void DualAveraging::restart(double epsilon) {
  mu_ = std::log(10 * epsilon);
  s_bar_ = 0;
  x_bar_ = 0;
  counter_ = 0;
}

double DualAveraging::update(double accept_stat) {
  ++counter_;
  accept_stat = std::min(1.0, accept_stat);
  const double n = static_cast<double>(counter_);
  const double eta = 1.0 / (n + config_.t0);
  s_bar_ = (1 - eta) * s_bar_ + eta * (config_.target_accept - accept_stat);
  const double x = mu_ - s_bar_ * std::sqrt(n) / config_.gamma;
  const double x_eta = std::pow(n, -config_.kappa);
  x_bar_ = (1 - x_eta) * x_bar_ + x_eta * x;
  return std::exp(x);
}

double DualAveraging::final_step_size() const { return std::exp(x_bar_); }

WindowedAdaptation::WindowedAdaptation(int64_t num_warmup, int64_t dim)
    : num_warmup_(num_warmup), dim_(dim), mean_(dim, 0.0), m2_(dim, 0.0) {
  if (num_warmup < 20) {
    enabled_ = false;
  } else if (init_buffer_ + base_window_ + term_buffer_ > num_warmup) {
    init_buffer_ = static_cast<int64_t>(0.15 * num_warmup);
    term_buffer_ = static_cast<int64_t>(0.1 * num_warmup);
    base_window_ = num_warmup - (init_buffer_ + term_buffer_);
  }
  window_size_ = base_window_;
  next_window_ = init_buffer_ + window_size_ - 1;
}

bool WindowedAdaptation::in_window() const {
  return counter_ >= init_buffer_ && counter_ < num_warmup_ - term_buffer_ &&
         counter_ != num_warmup_;
}

bool WindowedAdaptation::window_closes() const {
  return counter_ == next_window_ && counter_ != num_warmup_;
}

void WindowedAdaptation::next_window() {
  if (next_window_ == num_warmup_ - term_buffer_ - 1) return;
  window_size_ *= 2;
  next_window_ = counter_ + window_size_;
  if (next_window_ != num_warmup_ - term_buffer_ - 1) {
    const int64_t boundary = next_window_ + 2 * window_size_;
    if (boundary >= num_warmup_ - term_buffer_) next_window_ = num_warmup_ - term_buffer_ - 1;
  }
}

bool WindowedAdaptation::update(const std::vector<double>& q, std::vector<double>& inv_metric) {
  if (!enabled_) return false;
  if (in_window()) {
    ++n_;
    for (int64_t i = 0; i < dim_; ++i) {
      const double delta = q[i] - mean_[i];
      mean_[i] += delta / n_;
      m2_[i] += delta * (q[i] - mean_[i]);
    }
  }
  if (window_closes()) {
    next_window();
    const double n = static_cast<double>(n_);
    for (int64_t i = 0; i < dim_; ++i) {
      const double var = n > 1 ? m2_[i] / (n - 1) : 1.0;
      inv_metric[i] = (n / (n + 5)) * var + 1e-3 * (5 / (n + 5));
    }
    n_ = 0;
    std::fill(mean_.begin(), mean_.end(), 0.0);
    std::fill(m2_.begin(), m2_.end(), 0.0);
    ++counter_;
    return true;
  }
  ++counter_;
  return false;
}

}  // namespace diffvi::vi
