// Solver behaviour beyond orders: NFE accounting, never evaluating at t = 0, the 3n − 1 NaN trap,
// model types through the converting wrapper, t_start / t_end, denoise-to-zero, stochastic DDIM,
// thresholding, classifier-free guidance, adaptive efficiency and option validation.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "diffvi/diffusion/schedules/discrete_schedule.h"
#include "diffvi/tensor/errors.h"
#include "problems.h"

namespace {

using namespace solver_test;
using diffvi::DType;

const char* kAll[] = {"ddim",          "dpmsolver-2",   "dpmsolver-3",   "dpmsolver-2m",
                      "dpmsolver-3m",  "dpmsolver++2s", "dpmsolver++3s", "dpmsolver++2m",
                      "dpmsolver++3m", "dpmsolver-12",  "dpmsolver-23"};

bool AllFinite(const Tensor& x) {
  for (double v : x.to_vector<double>())
    if (!std::isfinite(v)) return false;
  return true;
}

TEST(Solvers, ReportNfeAndNeverEvaluateAtZero) {
  const Problem p = GaussianProblem(4, 4);
  for (const char* name : kAll) {
    for (int steps : {5, 10, 20}) {
      double smallest = 1e300;
      int calls = 0;
      Model m = [&](const Tensor& x, const Tensor& t) {
        ++calls;
        smallest = std::min(smallest, diffvi::min(t).item());
        return p.model()(x, t);
      };
      int nfe = 0;
      Tensor x = p.solve(solver_preset(name, steps), &nfe, ModelType::noise, m);
      EXPECT_EQ(nfe, calls) << name;
      if (std::string(name) != "dpmsolver-12" && std::string(name) != "dpmsolver-23") {
        EXPECT_EQ(nfe, steps) << name;
      }
      EXPECT_GE(smallest, p.t_end) << name;
      EXPECT_GT(smallest, 0.0) << name;
      EXPECT_TRUE(AllFinite(x)) << name;
    }
  }
}

TEST(Solvers, SinglestepOrder3With3nMinus1EvaluationsHasNoNaN) {
  // Also on the discrete schedule and with every spacing, down to t_end = 1/N.
  auto discrete = std::make_shared<diffvi::diffusion::DiscreteLinearBeta>(1000);
  const Problem p = GaussianProblem(4, 4);
  for (StepSpacing sp :
       {StepSpacing::logsnr, StepSpacing::time_uniform, StepSpacing::time_quadratic}) {
    for (int n = 1; n <= 7; ++n) {
      for (const char* name : {"dpmsolver-3", "dpmsolver++3s"}) {
        auto o = solver_preset(name, 3 * n - 1).set_spacing(sp);
        Tensor x = p.solve(o);
        EXPECT_TRUE(AllFinite(x)) << name << " nfe " << 3 * n - 1;
        Model m = [&](const Tensor& z, const Tensor& t) {
          return p.data->optimal_eps(*discrete, z, t);
        };
        DpmSolver ds(m, discrete, ModelType::noise, o);
        Tensor y = ds.sample(p.x_T);
        EXPECT_TRUE(AllFinite(y)) << name << " discrete nfe " << 3 * n - 1;
        EXPECT_EQ(ds.nfe(), 3 * n - 1);
        EXPECT_GE(ds.smallest_t(), discrete->t_eps());
      }
    }
  }
}

TEST(Solvers, ModelTypesConvertToTheSameSolution) {
  const Problem p = GaussianProblem(3, 4);
  auto ns = p.schedule;
  auto eps = p.model();
  auto sig = [&](const Tensor& t) { return diffvi::unsqueeze(ns->sigma(t), 1); };
  auto alp = [&](const Tensor& t) { return diffvi::unsqueeze(ns->alpha(t), 1); };
  Model x0 = [&](const Tensor& x, const Tensor& t) { return (x - sig(t) * eps(x, t)) / alp(t); };
  // ε = α v + σ x  =>  v = (ε − σ x) / α.
  Model v = [&](const Tensor& x, const Tensor& t) { return (eps(x, t) - sig(t) * x) / alp(t); };
  Model score = [&](const Tensor& x, const Tensor& t) { return -eps(x, t) / sig(t); };
  for (const char* name : {"dpmsolver-3", "dpmsolver++2m", "dpmsolver++3s"}) {
    Tensor ref = p.solve(solver_preset(name, 12));
    for (auto [type, m] : {std::pair{ModelType::x0, x0}, std::pair{ModelType::v, v},
                           std::pair{ModelType::score, score}}) {
      Tensor x = p.solve(solver_preset(name, 12), nullptr, type, m);
      EXPECT_LT(diffvi::max(diffvi::abs(x - ref)).item(), 1e-9) << name;
    }
  }
}

TEST(Solvers, TStartTEndAndDenoiseToZero) {
  Problem p = GaussianProblem(4, 4);
  p.t_start = 0.6;
  p.t_end = 0.05;
  p.x_T = p.data->ode_solution(*p.schedule, p.x_T, 1.0, 0.6);
  p.reference = p.data->ode_solution(*p.schedule, p.x_T, 0.6, 0.05);
  double smallest = 1e300, largest = 0;
  Model m = [&](const Tensor& x, const Tensor& t) {
    smallest = std::min(smallest, diffvi::min(t).item());
    largest = std::max(largest, diffvi::max(t).item());
    return p.model()(x, t);
  };
  EXPECT_LT(p.error(p.solve(solver_preset("dpmsolver-3m", 40), nullptr, ModelType::noise, m)),
            1e-4);
  EXPECT_DOUBLE_EQ(largest, 0.6);
  EXPECT_GE(smallest, 0.05);  // multistep never needs the model at the final time
  smallest = 1e300;
  p.solve(solver_preset("dpmsolver-3", 20), nullptr, ModelType::noise, m);
  EXPECT_GE(smallest, 0.05);
  int nfe = 0;
  Tensor x = p.solve(solver_preset("dpmsolver-3m", 20).set_denoise_to_zero(true), &nfe);
  EXPECT_EQ(nfe, 21);
  Tensor xs = p.solve(solver_preset("dpmsolver-3m", 20));
  const double a = p.schedule->alpha(0.05), s = p.schedule->sigma(0.05);
  Tensor expect = (xs - s * p.data->optimal_eps(*p.schedule, xs, 0.05)) / a;
  EXPECT_LT(diffvi::max(diffvi::abs(x - expect)).item(), 1e-12);
}

TEST(Solvers, StochasticDdim) {
  Problem p = GaussianProblem(1, 4000, 7);
  diffvi::Generator gen(11);
  Tensor det = p.solve(solver_preset("ddim", 20));
  Tensor eta0 = p.solve(solver_preset("ddim", 20).set_eta(1e-300).set_generator(&gen));
  EXPECT_LT(diffvi::max(diffvi::abs(det - eta0)).item(), 1e-9);
  // η = 1 is ancestral sampling: with the exact ε* its samples follow the data marginal at t_end.
  int nfe = 0;
  Tensor x = p.solve(solver_preset("ddim", 200).set_eta(1.0).set_generator(&gen), &nfe);
  EXPECT_EQ(nfe, 200);
  Tensor target = p.data->ode_solution(*p.schedule, p.x_T, 1.0, p.t_end);  // exact marginal draws
  EXPECT_NEAR(diffvi::mean(x).item(), diffvi::mean(target).item(), 0.06);
  EXPECT_NEAR(std::sqrt(diffvi::var(x).item()), std::sqrt(diffvi::var(target).item()), 0.06);
  EXPECT_GT(diffvi::max(diffvi::abs(x - det)).item(), 0.1);  // and it is stochastic
}

TEST(Solvers, DynamicThresholding) {
  diffvi::Generator gen(4);
  Tensor x0 = 3.0 * diffvi::randn({4, 100}, gen, DType::f64);
  Tensor y = dynamic_threshold(x0);
  EXPECT_LE(diffvi::max(diffvi::abs(y)).item(), 1.0 + 1e-12);
  Tensor small = 0.1 * x0 / 3.0 * 0.1;  // already inside [−1, 1]: only divided by s = 1
  EXPECT_LT(diffvi::max(diffvi::abs(dynamic_threshold(small) - small)).item(), 1e-15);
  const Problem p = GaussianProblem(4, 4);
  Tensor x = p.solve(solver_preset("dpmsolver++2m", 10).set_thresholding(ThresholdOptions()));
  EXPECT_TRUE(AllFinite(x));
  EXPECT_THROW(p.solve(solver_preset("dpmsolver-3", 10).set_thresholding(ThresholdOptions())),
               diffvi::ValueError);
}

TEST(Solvers, ClassifierFreeGuidanceUsesOneBatchedEvaluation) {
  int calls = 0;
  ConditionalModel m = [&](const Tensor& x, const Tensor& t, const Tensor& c) {
    ++calls;
    EXPECT_EQ(x.size(0), 6);
    return x * c;  // c: [2B, 1]
  };
  Tensor c = diffvi::full({3, 1}, 2.0, DType::f64), u = diffvi::full({3, 1}, 0.5, DType::f64);
  Model g = classifier_free_guidance(m, c, u, 3.0);
  Tensor x = diffvi::ones({3, 2}, DType::f64);
  Tensor out = g(x, diffvi::full({3}, 0.5, DType::f64));
  EXPECT_EQ(calls, 1);
  for (double v : out.to_vector<double>()) EXPECT_DOUBLE_EQ(v, 0.5 + 3.0 * (2.0 - 0.5));
}

TEST(Solvers, AdaptiveNeedsFewerEvaluationsThanFixedStepAtEqualError) {
  // Against fixed steps of the same order uniform in time. (Steps uniform in λ are already close
  // to what the controller picks on these problems; there the adaptive solvers do not win.)
  const Problem p = MixtureProblem(16, 3, 1024);
  for (auto [adaptive, fixed, order] : {std::tuple{"dpmsolver-12", "dpmsolver-2", 2},
                                        std::tuple{"dpmsolver-23", "dpmsolver-3", 3}}) {
    int nfe_a = 0;
    auto o = solver_preset(adaptive, 0).set_atol(1e-3).set_rtol(1e-3);
    const double err_a = p.error(p.solve(o, &nfe_a));
    // Budgets whose fast plan keeps the full order (even; 3k − 1), so errors fall monotonically.
    for (int k = 2; order * k <= nfe_a; k = k * 9 / 8 + 1) {
      const int n = order == 2 ? 2 * k : 3 * k - 1;
      const double e =
          p.error(p.solve(solver_preset(fixed, n).set_spacing(StepSpacing::time_uniform)));
      EXPECT_GT(e, err_a) << adaptive << ": fixed-step " << fixed << " with " << n
                          << " NFE reaches the error of the adaptive run (" << nfe_a << " NFE)";
    }
  }
}

TEST(Solvers, OptionValidation) {
  const Problem p = GaussianProblem(2, 2);
  EXPECT_THROW(p.solve(DpmSolverOptions().set_order(4)), diffvi::ValueError);
  EXPECT_THROW(p.solve(solver_preset("ddim", 5).set_eta(0.5)), diffvi::ValueError);  // no generator
  EXPECT_THROW(p.solve(solver_preset("dpmsolver-3m", 2)), diffvi::ValueError);
  EXPECT_THROW(solver_preset("rk4", 10), diffvi::ValueError);
  EXPECT_THROW(
      DpmSolver(p.model(), p.schedule, ModelType::noise, DpmSolverOptions().set_t_end(0.0)),
      diffvi::ValueError);
}

TEST(Solvers, StartTimeOutsideTheScheduleIsRejected) {
  // From t_start = 2 on VP-linear (t_max() = 1) the samples used to come back at 1e16–1e54.
  const Problem p = GaussianProblem(2, 2);
  const auto make = [&](DpmSolverOptions o) {
    return DpmSolver(p.model(), p.schedule, ModelType::noise, o);
  };
  try {
    make(solver_preset("ddim", 10).set_t_start(2.0));
    ADD_FAILURE() << "no ValueError";
  } catch (const diffvi::ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("t_start = 2"), std::string::npos) << what;
    EXPECT_NE(what.find("range is (0, 1]"), std::string::npos) << what;
  }
  const double nan = std::nan("");
  for (const std::string name : {"ddim", "dpmsolver-3", "dpmsolver++2m", "dpmsolver-23"}) {
    SCOPED_TRACE(name);
    EXPECT_THROW(make(solver_preset(name, 10).set_t_start(1.5)), diffvi::ValueError);
    EXPECT_THROW(make(solver_preset(name, 10).set_t_start(nan)), diffvi::ValueError);
    EXPECT_THROW(make(solver_preset(name, 10).set_t_start(INFINITY)), diffvi::ValueError);
    EXPECT_THROW(make(solver_preset(name, 10).set_t_start(0.5).set_t_end(0.5)), diffvi::ValueError);
    EXPECT_THROW(make(solver_preset(name, 10).set_t_end(nan)), diffvi::ValueError);
    EXPECT_NO_THROW(make(solver_preset(name, 10).set_t_start(1.0).set_t_end(1e-4)));
  }
  // time_steps, which DMVI plans with directly, checks the same range.
  EXPECT_THROW(diffvi::solvers::time_steps(*p.schedule, StepSpacing::logsnr, 1.5, 1e-3, 4),
               diffvi::ValueError);
}

}  // namespace
