#include "diffvi/nn/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace diffvi::nn {

void LRSchedule::apply(Optimizer& optimizer, int64_t step) const {
  const double f = factor(step);
  for (Optimizer::Group& g : optimizer.param_groups()) g.lr = g.initial_lr * f;
}

LinearWarmupLR::LinearWarmupLR(int64_t warmup_steps) : warmup_(warmup_steps) {
  if (warmup_steps < 0) throw ValueError("LinearWarmupLR: warmup_steps must be >= 0");
}

double LinearWarmupLR::factor(int64_t step) const {
  if (step >= warmup_) return 1.0;
  return static_cast<double>(std::max<int64_t>(step, 0) + 1) / static_cast<double>(warmup_);
}

CosineLR::CosineLR(int64_t total_steps, int64_t warmup_steps, double min_factor)
    : total_(total_steps), warmup_(warmup_steps), min_factor_(min_factor) {
  if (total_steps <= 0 || warmup_steps < 0 || warmup_steps > total_steps) {
    throw ValueError("CosineLR: need total_steps > 0 and 0 <= warmup_steps <= total_steps, got " +
                     std::to_string(total_steps) + " and " + std::to_string(warmup_steps));
  }
}

double CosineLR::factor(int64_t step) const {
  if (step < warmup_) {
    return static_cast<double>(std::max<int64_t>(step, 0) + 1) / static_cast<double>(warmup_);
  }
  if (total_ == warmup_) return min_factor_;
  const double progress =
      std::min(1.0, static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_));
  return min_factor_ + (1.0 - min_factor_) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace diffvi::nn
