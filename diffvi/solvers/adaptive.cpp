// DPM-Solver-12 and -23: an embedded pair (orders k−1 and k sharing their evaluations) with
// step-size control in λ (Lu et al. 2022, §5 / Algorithm 4 of the appendix).
#include <algorithm>
#include <cmath>

#include "diffvi/autograd/ops.h"
#include "diffvi/solvers/dpm_solver.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::solvers {

Tensor DpmSolver::run_adaptive(Tensor x, double t_start, double t_end) {
  const auto& ns = wrapper_.schedule();
  const auto& o = options_;
  const int order = o.order;
  const double r1 = order == 2 ? 0.5 : 1.0 / 3.0, r2 = 2.0 / 3.0;
  const double lambda_end = ns.lambda(t_end);
  double s = t_start, lambda_s = ns.lambda(s);
  double h = o.h_init;
  Tensor x_prev = x;
  for (int attempts = 0; std::abs(s - t_end) > o.t_err; ++attempts) {
    if (attempts > 100000) throw ValueError("DpmSolver: adaptive step control did not converge");
    const double t = ns.t_of_lambda(lambda_s + h);
    StepCache cache;
    Tensor x_low =
        order == 2 ? stepper_.first(x, s, t, cache) : stepper_.second(x, s, t, r1, cache);
    Tensor x_high =
        order == 2 ? stepper_.second(x, s, t, r1, cache) : stepper_.third(x, s, t, r1, r2, cache);
    double err = 0;
    {
      // The controller's error estimate steers the step; it is not part of the gradient path.
      NoGradGuard no_grad;
      Tensor lo = detach(x_low), hi = detach(x_high);
      Tensor delta = maximum(full_like(lo, o.atol), o.rtol * maximum(abs(lo), abs(detach(x_prev))));
      Tensor ratio = reshape((hi - lo) / delta, {lo.size(0), lo.numel() / lo.size(0)});
      err = max(sqrt(mean(square(ratio), {1}))).item();
    }
    if (err <= 1.0) {
      x = x_high;
      x_prev = x_low;
      s = t;
      lambda_s = ns.lambda(s);
    }
    const double factor = err > 0 ? std::pow(err, -1.0 / order) : 1e6;
    h = std::min(o.theta * h * factor, lambda_end - lambda_s);
  }
  return x;
}

}  // namespace diffvi::solvers
