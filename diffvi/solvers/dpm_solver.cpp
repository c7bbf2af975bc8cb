#include "diffvi/solvers/dpm_solver.h"

#include <algorithm>
#include <string>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::solvers {

DpmSolver::DpmSolver(Model model, std::shared_ptr<const diffusion::NoiseSchedule> schedule,
                     ModelType type, DpmSolverOptions options)
    : options_(std::move(options)),
      wrapper_(std::move(model), std::move(schedule), type),
      stepper_(wrapper_, options_.algorithm) {
  const auto& o = options_;
  if (o.order < 1 || o.order > 3) throw ValueError("DpmSolver: order must be 1, 2 or 3");
  if (o.method == Method::adaptive && o.order < 2) {
    throw ValueError("DpmSolver: adaptive needs order 2 (DPM-Solver-12) or 3 (DPM-Solver-23)");
  }
  if (o.method != Method::adaptive && o.steps < 1)
    throw ValueError("DpmSolver: steps must be >= 1");
  if (o.method == Method::multistep && o.steps < o.order) {
    throw ValueError("DpmSolver: multistep of order " + std::to_string(o.order) +
                     " needs at least " + std::to_string(o.order) + " steps");
  }
  if (o.thresholding && o.algorithm != Algorithm::dpmsolver_pp) {
    throw ValueError("DpmSolver: dynamic thresholding applies to DPM-Solver++ (data prediction)");
  }
  if (o.eta > 0 && (o.generator == nullptr || o.order != 1 || o.method != Method::singlestep)) {
    throw ValueError("DpmSolver: eta > 0 is stochastic DDIM: singlestep, order 1, and a generator");
  }
  if (o.t_end && !(*o.t_end > 0)) throw ValueError("DpmSolver: t_end must be > 0");
  // Here rather than in sample(): the options are what is wrong, and they are fixed from now on.
  const auto& ns = wrapper_.schedule();
  check_time_range(ns, o.t_start.value_or(ns.t_max()), o.t_end.value_or(ns.t_eps()), "DpmSolver");
  wrapper_.set_thresholding(o.thresholding);
}

Tensor DpmSolver::sample(const Tensor& x_T) {
  wrapper_.reset_nfe();
  const auto& ns = wrapper_.schedule();
  const double t_start = options_.t_start.value_or(ns.t_max());
  const double t_end = options_.t_end.value_or(ns.t_eps());
  Tensor x;
  switch (options_.method) {
    case Method::singlestep:
    case Method::singlestep_fixed:
      x = run_singlestep(x_T, t_start, t_end);
      break;
    case Method::multistep:
      x = run_multistep(x_T, t_start, t_end);
      break;
    case Method::adaptive:
      x = run_adaptive(x_T, t_start, t_end);
      break;
  }
  if (options_.denoise_to_zero) x = wrapper_.data(x, t_end);
  return x;
}

Tensor DpmSolver::run_singlestep(Tensor x, double t_start, double t_end) {
  const auto& ns = wrapper_.schedule();
  SinglestepPlan plan;
  if (options_.method == Method::singlestep) {
    plan = singlestep_plan(ns, options_.spacing, t_start, t_end, options_.steps, options_.order);
  } else {
    const int k = std::max(1, options_.steps / options_.order);
    plan.orders.assign(k, options_.order);
    plan.times = time_steps(ns, options_.spacing, t_start, t_end, k);
  }
  for (size_t i = 0; i < plan.orders.size(); ++i) {
    const double s = plan.times[i], t = plan.times[i + 1];
    const int order = plan.orders[i];
    if (options_.eta > 0) {
      x = stepper_.ddim_stochastic(x, s, t, options_.eta, *options_.generator);
      continue;
    }
    // The intermediate points follow the step spacing inside the step, as in the reference.
    double r1 = 0.5, r2 = 1.0;
    if (order > 1) {
      std::vector<double> inner = time_steps(ns, options_.spacing, s, t, order);
      const double l0 = ns.lambda(s), h = ns.lambda(t) - l0;
      r1 = (ns.lambda(inner[1]) - l0) / h;
      if (order > 2) r2 = (ns.lambda(inner[2]) - l0) / h;
    }
    StepCache cache;
    x = stepper_.singlestep(x, s, t, order, r1, r2, cache);
  }
  return x;
}

Tensor DpmSolver::run_multistep(Tensor x, double t_start, double t_end) {
  const auto& ns = wrapper_.schedule();
  const int steps = options_.steps, order = options_.order;
  const double d2 = options_.reference_third_order_coefficient ? 1.0 : 2.0;
  std::vector<double> ts = time_steps(ns, options_.spacing, t_start, t_end, steps);
  std::vector<Tensor> values{stepper_.evaluate(x, ts[0])};
  std::vector<double> times{ts[0]};
  for (int step = 1; step <= steps; ++step) {
    // Warm-up with lower orders; optionally lower the order of the final steps.
    int step_order = std::min(order, step);
    if (options_.lower_order_final && steps < options_.lower_order_final_below) {
      step_order = std::min(step_order, steps + 1 - step);
    }
    x = stepper_.multistep(x, values, times, ts[step], step_order, d2);
    if (step == steps) break;  // the last value is never needed
    values.push_back(stepper_.evaluate(x, ts[step]));
    times.push_back(ts[step]);
    if (values.size() > static_cast<size_t>(order)) {
      values.erase(values.begin());
      times.erase(times.begin());
    }
  }
  return x;
}

DpmSolverOptions solver_preset(const std::string& name, int steps) {
  DpmSolverOptions o;
  o.set_steps(steps);
  const Algorithm pp = Algorithm::dpmsolver_pp;
  if (name == "ddim" || name == "dpmsolver-1") return o.set_order(1);
  if (name == "dpmsolver-2") return o.set_order(2);
  if (name == "dpmsolver-3") return o.set_order(3);
  if (name == "dpmsolver-2m") return o.set_order(2).set_method(Method::multistep);
  if (name == "dpmsolver-3m") return o.set_order(3).set_method(Method::multistep);
  if (name == "dpmsolver++1") return o.set_order(1).set_algorithm(pp);
  if (name == "dpmsolver++2s") return o.set_order(2).set_algorithm(pp);
  if (name == "dpmsolver++3s") return o.set_order(3).set_algorithm(pp);
  if (name == "dpmsolver++2m")
    return o.set_order(2).set_algorithm(pp).set_method(Method::multistep);
  if (name == "dpmsolver++3m")
    return o.set_order(3).set_algorithm(pp).set_method(Method::multistep);
  if (name == "dpmsolver-12") return o.set_order(2).set_method(Method::adaptive);
  if (name == "dpmsolver-23") return o.set_order(3).set_method(Method::adaptive);
  throw ValueError("solver_preset: unknown solver '" + name + "'");
}

}  // namespace diffvi::solvers
