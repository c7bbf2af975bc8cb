// DPM-Solver and DPM-Solver++: fast ODE samplers for diffusion models (Lu et al. 2022).
//
//   auto solver = DpmSolver(model, schedule, ModelType::noise,
//                           DpmSolverOptions().set_steps(10).set_order(3));
//   Tensor x0 = solver.sample(x_T);   // solver.nfe() evaluations, all at t >= t_end > 0
//
// Methods: singlestep ("fast" order mixing: DDIM = order 1, DPM-Solver-2/-3, ++2S/++3S), multistep
// (2M/3M, ++2M/++3M, warm-up by lower orders) and adaptive (12 / 23, error control in λ). The
// whole run is built from differentiable ops, so backward() from the sample reaches the model's
// parameters and x_T.
#pragma once

#include <memory>
#include <optional>

#include "diffvi/solvers/model.h"
#include "diffvi/solvers/steps.h"
#include "diffvi/solvers/time_steps.h"

namespace diffvi::solvers {

enum class Method {
  singlestep,        // DPM-Solver-fast: `steps` evaluations split into order-3/2/1 steps
  singlestep_fixed,  // steps / order steps, all of `order`
  multistep,
  adaptive,  // order 2 = DPM-Solver-12, order 3 = DPM-Solver-23; ignores `steps`
};

struct DpmSolverOptions {
  int steps = 20;  // the evaluation budget (singlestep, multistep)
  int order = 3;   // 1..3
  Method method = Method::singlestep;
  Algorithm algorithm = Algorithm::dpmsolver;
  StepSpacing spacing = StepSpacing::logsnr;
  std::optional<double> t_start;  // default schedule.t_max()
  std::optional<double> t_end;    // default schedule.t_eps(); must be > 0
  // Multistep: lower the order of the last steps when there are fewer than
  // `lower_order_final_below` steps (without it ++2M is unstable at <= 10 steps).
  bool lower_order_final = true;
  int lower_order_final_below = 10;
  // One more evaluation at the end: return the data prediction x̂(x, t_end).
  bool denoise_to_zero = false;
  // Adaptive step control (REFERENCE §2): E = RMS((x_high − x_low)/δ),
  // δ = max(atol, rtol · max(|x_low|, |x_prev|)); accept if E <= 1; h ← min(θ h E^{−1/order}, ...).
  double atol = 0.0078;
  double rtol = 0.05;
  double h_init = 0.05;
  double theta = 0.9;
  double t_err = 1e-5;
  // Compatibility: the public reference code's φ3·D2 in third-order multistep updates (only
  // second order). Off = the correct 2·φ3·D2.
  bool reference_third_order_coefficient = false;
  // Dynamic thresholding of data predictions (DPM-Solver++ only).
  std::optional<ThresholdOptions> thresholding;
  // Stochastic DDIM (method singlestep, order 1); needs `generator` when > 0.
  double eta = 0.0;
  Generator* generator = nullptr;

  DpmSolverOptions& set_steps(int v) {
    steps = v;
    return *this;
  }
  DpmSolverOptions& set_order(int v) {
    order = v;
    return *this;
  }
  DpmSolverOptions& set_method(Method v) {
    method = v;
    return *this;
  }
  DpmSolverOptions& set_algorithm(Algorithm v) {
    algorithm = v;
    return *this;
  }
  DpmSolverOptions& set_spacing(StepSpacing v) {
    spacing = v;
    return *this;
  }
  DpmSolverOptions& set_t_start(double v) {
    t_start = v;
    return *this;
  }
  DpmSolverOptions& set_t_end(double v) {
    t_end = v;
    return *this;
  }
  DpmSolverOptions& set_lower_order_final(bool v) {
    lower_order_final = v;
    return *this;
  }
  DpmSolverOptions& set_lower_order_final_below(int v) {
    lower_order_final_below = v;
    return *this;
  }
  DpmSolverOptions& set_denoise_to_zero(bool v) {
    denoise_to_zero = v;
    return *this;
  }
  DpmSolverOptions& set_atol(double v) {
    atol = v;
    return *this;
  }
  DpmSolverOptions& set_rtol(double v) {
    rtol = v;
    return *this;
  }
  DpmSolverOptions& set_h_init(double v) {
    h_init = v;
    return *this;
  }
  DpmSolverOptions& set_theta(double v) {
    theta = v;
    return *this;
  }
  DpmSolverOptions& set_t_err(double v) {
    t_err = v;
    return *this;
  }
  DpmSolverOptions& set_reference_third_order_coefficient(bool v) {
    reference_third_order_coefficient = v;
    return *this;
  }
  DpmSolverOptions& set_thresholding(std::optional<ThresholdOptions> v) {
    thresholding = v;
    return *this;
  }
  DpmSolverOptions& set_eta(double v) {
    eta = v;
    return *this;
  }
  DpmSolverOptions& set_generator(Generator* v) {
    generator = v;
    return *this;
  }
};

class DpmSolver {
 public:
  // ValueError for inconsistent options (order out of range, thresholding without ++, η > 0
  // without a generator or with order > 1, t_end <= 0, ...).
  DpmSolver(Model model, std::shared_ptr<const diffusion::NoiseSchedule> schedule,
            ModelType type = ModelType::noise, DpmSolverOptions options = {});

  // Solves the probability-flow ODE from x_T at t_start down to t_end (then denoises to zero if
  // asked). Differentiable in x_T and in whatever the model's output depends on.
  Tensor sample(const Tensor& x_T);

  int nfe() const { return wrapper_.nfe(); }                   // evaluations of the last sample()
  double smallest_t() const { return wrapper_.smallest_t(); }  // of the last sample()
  const DpmSolverOptions& options() const { return options_; }

 private:
  Tensor run_singlestep(Tensor x, double t_start, double t_end);
  Tensor run_multistep(Tensor x, double t_start, double t_end);
  Tensor run_adaptive(Tensor x, double t_start, double t_end);  // adaptive.cpp

  DpmSolverOptions options_;
  ModelWrapper wrapper_;
  Stepper stepper_;
};

// Named presets for the solvers of the paper tables: "ddim", "dpmsolver-1/-2/-3",
// "dpmsolver-2m", "dpmsolver-3m", "dpmsolver++1", "dpmsolver++2s", "dpmsolver++3s",
// "dpmsolver++2m", "dpmsolver++3m", "dpmsolver-12", "dpmsolver-23" (adaptive). ValueError for
// an unknown name. `steps` is the evaluation budget.
DpmSolverOptions solver_preset(const std::string& name, int steps);

}  // namespace diffvi::solvers
