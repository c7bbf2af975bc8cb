// Learning-rate schedules: small objects mapping a step index to a factor of each parameter
// group's initial lr. Call apply(optimizer) before each optimizer.step(); it uses the optimizer's
// own step count, so a resumed optimizer (load_state_dict) continues the schedule exactly.
#pragma once

#include <cstdint>

#include "diffvi/nn/optimizer.h"

namespace diffvi::nn {

class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  // Multiplier of the initial lr for the update with 0-based index `step`.
  virtual double factor(int64_t step) const = 0;
  // lr of that update for a given base lr.
  double lr(double base_lr, int64_t step) const { return base_lr * factor(step); }
  // Sets every group's lr to initial_lr · factor(step).
  void apply(Optimizer& optimizer, int64_t step) const;
  // apply() at the optimizer's next update (index optimizer.step_count()).
  void apply(Optimizer& optimizer) const { apply(optimizer, optimizer.step_count()); }
};

// Factor 1 always.
class ConstantLR : public LRSchedule {
 public:
  double factor(int64_t) const override { return 1.0; }
};

// Linear warmup: (step + 1) / warmup_steps for the first warmup_steps updates, then 1.
class LinearWarmupLR : public LRSchedule {
 public:
  explicit LinearWarmupLR(int64_t warmup_steps);
  double factor(int64_t step) const override;

 private:
  int64_t warmup_;
};

// Linear warmup (as above), then a half cosine from 1 down to min_factor at total_steps (and
// min_factor after). ValueError unless 0 <= warmup_steps <= total_steps and total_steps > 0.
class CosineLR : public LRSchedule {
 public:
  CosineLR(int64_t total_steps, int64_t warmup_steps = 0, double min_factor = 0.0);
  double factor(int64_t step) const override;

 private:
  int64_t total_, warmup_;
  double min_factor_;
};

}  // namespace diffvi::nn
