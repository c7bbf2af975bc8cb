#include "diffvi/solvers/time_steps.h"

#include <cmath>
#include <sstream>
#include <string>

#include "diffvi/tensor/errors.h"

namespace diffvi::solvers {

void check_time_range(const diffusion::NoiseSchedule& schedule, double t_start, double t_end,
                      const char* op) {
  // Written as !(...) so that NaN fails too; t_start <= t_max() rules out +inf.
  if (!(t_end > 0 && t_start > t_end && t_start <= schedule.t_max())) {
    std::ostringstream msg;
    msg << op << ": t_start = " << t_start << " and t_end = " << t_end
        << " must satisfy 0 < t_end < t_start <= t_max(); the schedule's range is (0, "
        << schedule.t_max() << "]";
    throw ValueError(msg.str());
  }
}

std::vector<double> time_steps(const diffusion::NoiseSchedule& schedule, StepSpacing spacing,
                               double t_start, double t_end, int n) {
  if (n < 1) throw ValueError("time_steps: need at least one step, got " + std::to_string(n));
  check_time_range(schedule, t_start, t_end, "time_steps");
  std::vector<double> t(static_cast<size_t>(n) + 1);
  const double l0 = schedule.lambda(t_start), l1 = schedule.lambda(t_end);
  const double q0 = std::sqrt(t_start), q1 = std::sqrt(t_end);
  for (int i = 0; i <= n; ++i) {
    const double w = static_cast<double>(i) / n;
    switch (spacing) {
      case StepSpacing::logsnr:
        t[i] = schedule.t_of_lambda(l0 + w * (l1 - l0));
        break;
      case StepSpacing::time_uniform:
        t[i] = t_start + w * (t_end - t_start);
        break;
      case StepSpacing::time_quadratic: {
        const double q = q0 + w * (q1 - q0);
        t[i] = q * q;
        break;
      }
    }
  }
  t.front() = t_start;  // exact ends: the inverse t(λ) may be off by round-off
  t.back() = t_end;
  return t;
}

SinglestepPlan singlestep_plan(const diffusion::NoiseSchedule& schedule, StepSpacing spacing,
                               double t_start, double t_end, int nfe, int order) {
  if (order < 1 || order > 3) throw ValueError("singlestep_plan: order must be 1, 2 or 3");
  if (nfe < 1) throw ValueError("singlestep_plan: need at least one evaluation");
  SinglestepPlan plan;
  if (order == 3 && nfe >= 3) {
    const int k = nfe / 3 + 1;
    if (nfe % 3 == 0) {
      plan.orders.assign(k - 2, 3);
      plan.orders.push_back(2);
      plan.orders.push_back(1);
    } else {
      plan.orders.assign(k - 1, 3);
      plan.orders.push_back(nfe % 3 == 1 ? 1 : 2);
    }
  } else if (order >= 2 && nfe >= 2) {
    plan.orders.assign(nfe / 2, 2);
    if (nfe % 2 == 1) plan.orders.push_back(1);
  } else {
    plan.orders.assign(nfe, 1);
  }
  const int steps = static_cast<int>(plan.orders.size());
  if (spacing == StepSpacing::logsnr) {
    plan.times = time_steps(schedule, spacing, t_start, t_end, steps);
  } else {
    std::vector<double> grid = time_steps(schedule, spacing, t_start, t_end, nfe);
    int at = 0;
    plan.times.push_back(grid[0]);
    for (int o : plan.orders) plan.times.push_back(grid[at += o]);
  }
  return plan;
}

}  // namespace diffvi::solvers
