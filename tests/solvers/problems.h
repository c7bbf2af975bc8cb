// The exact test problems of REFERENCE.md §2 shared by the solver tests: a diagonal Gaussian
// (exact ODE solution) and a 2-D Gaussian mixture (closed-form ε*, fine f64 reference solve).
#pragma once

#include <cmath>
#include <memory>
#include <numbers>
#include <vector>

#include "diffvi/autograd/ops.h"
#include "diffvi/diffusion/problems/gaussian_mixture.h"
#include "diffvi/diffusion/schedules/vp_linear.h"
#include "diffvi/solvers/dpm_solver.h"

namespace solver_test {

using diffvi::Tensor;
using diffvi::diffusion::GaussianMixtureData;
using namespace diffvi::solvers;

struct Problem {
  std::shared_ptr<diffvi::diffusion::VPLinear> schedule =
      std::make_shared<diffvi::diffusion::VPLinear>();
  std::shared_ptr<GaussianMixtureData> data;
  Tensor x_T, reference;
  double t_start = 1.0, t_end = 1e-3;

  Model model() const {
    return [s = schedule, d = data](const Tensor& x, const Tensor& t) {
      return d->optimal_eps(*s, x, t);
    };
  }
  // Runs `options` from x_T over [t_end, t_start]; returns the sample, sets *nfe.
  Tensor solve(DpmSolverOptions options, int* nfe = nullptr, ModelType type = ModelType::noise,
               Model m = {}) const {
    DpmSolver solver(m ? m : model(), schedule, type,
                     options.set_t_start(t_start).set_t_end(t_end));
    Tensor x = solver.sample(x_T);
    if (nfe) *nfe = solver.nfe();
    return x;
  }
  double error(const Tensor& x) const {
    return std::sqrt(diffvi::mean(diffvi::square(x - reference)).item());
  }
};

inline Problem GaussianProblem(int dim = 8, int batch = 8, uint64_t seed = 1) {
  Problem p;
  diffvi::Generator gen(seed);
  auto u = diffvi::rand({2, dim}, gen, diffvi::DType::f64).to_vector<double>();
  std::vector<double> mu(dim), sd(dim);
  for (int i = 0; i < dim; ++i) mu[i] = 2 * u[i] - 1, sd[i] = 0.3 + 1.2 * u[dim + i];
  p.data = std::make_shared<GaussianMixtureData>(GaussianMixtureData::diagonal(mu, sd));
  p.x_T = diffvi::randn({batch, dim}, gen, diffvi::DType::f64);
  p.reference = p.data->ode_solution(*p.schedule, p.x_T, p.t_start, p.t_end);
  return p;
}

inline Problem MixtureProblem(int batch = 16, uint64_t seed = 2, int fine_steps = 2048) {
  Problem p;
  std::vector<double> w;
  std::vector<std::vector<double>> mu, sd;
  for (int k = 0; k < 5; ++k) {
    const double a = 2 * std::numbers::pi * k / 5;
    w.push_back(1.0 + 0.5 * k);
    mu.push_back({2.0 * std::cos(a), 2.0 * std::sin(a)});
    sd.push_back({0.3 + 0.05 * k, 0.4});
  }
  p.data = std::make_shared<GaussianMixtureData>(w, mu, sd);
  diffvi::Generator gen(seed);
  p.x_T = diffvi::randn({batch, 2}, gen, diffvi::DType::f64);
  p.reference = p.solve(solver_preset("dpmsolver-3m", fine_steps));
  return p;
}

// Least-squares slope of −log(error) against log(NFE).
inline double Slope(const std::vector<int>& nfe, const std::vector<double>& err) {
  double mx = 0, my = 0;
  const size_t n = nfe.size();
  for (size_t i = 0; i < n; ++i) mx += std::log(nfe[i]), my += std::log(err[i]);
  mx /= n, my /= n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (std::log(nfe[i]) - mx) * (std::log(err[i]) - my);
    sxx += (std::log(nfe[i]) - mx) * (std::log(nfe[i]) - mx);
  }
  return -sxy / sxx;
}

}  // namespace solver_test
