// Where a solver puts its steps: uniform in λ (logSNR, the default for low-resolution data),
// uniform in t, or uniform in √t (time-quadratic), and the "fast" order mixing of singlestep
// DPM-Solver for a given evaluation budget.
#pragma once

#include <vector>

#include "diffvi/diffusion/schedules/noise_schedule.h"

namespace diffvi::solvers {

enum class StepSpacing { logsnr, time_uniform, time_quadratic };

// ValueError naming `op`, both times and the schedule's range unless
// 0 < t_end < t_start <= schedule.t_max(): beyond t_max() the schedule's λ is clipped or
// infinite, and a solver started there returns garbage without an error.
void check_time_range(const diffusion::NoiseSchedule& schedule, double t_start, double t_end,
                      const char* op);

// n + 1 decreasing times from t_start to t_end (exactly those at the ends). ValueError unless
// n >= 1 and check_time_range holds.
std::vector<double> time_steps(const diffusion::NoiseSchedule& schedule, StepSpacing spacing,
                               double t_start, double t_end, int n);

struct SinglestepPlan {
  std::vector<int> orders;    // one per outer step; they sum to the evaluation budget
  std::vector<double> times;  // orders.size() + 1 outer times
};

// DPM-Solver's singlestep plan for `nfe` evaluations at `order` (1..3). Order 3:
// M = nfe/3 + 1 steps with orders [3,…,3,2,1] / [3,…,3,1] / [3,…,3,2] for nfe mod 3 = 0 / 1 / 2;
// order 2: [2,…,2] or [2,…,2,1]. With logSNR spacing the outer times are uniform in λ; otherwise
// they are picked from an nfe-step grid at the cumulative orders (as the reference does).
SinglestepPlan singlestep_plan(const diffusion::NoiseSchedule& schedule, StepSpacing spacing,
                               double t_start, double t_end, int nfe, int order);

}  // namespace diffvi::solvers
