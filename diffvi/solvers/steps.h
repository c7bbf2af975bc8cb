// One step of each DPM-Solver update, in noise-prediction (DPM-Solver) or data-prediction
// (DPM-Solver++) form, from time s to a smaller time t; h = λ_t − λ_s > 0. Coefficients are
// computed in f64 on the host (expm1 throughout), so every step is a handful of tensor
// axpy-like ops and stays differentiable in x and in the model's outputs.
// Formulas: REFERENCE.md §2 (Lu et al. 2022, arXiv 2206.00927 and 2211.01095).
#pragma once

#include <vector>

#include "diffvi/solvers/model.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::solvers {

enum class Algorithm {
  dpmsolver,     // noise prediction (DPM-Solver)
  dpmsolver_pp,  // data prediction (DPM-Solver++)
};

// Model values already computed at s (and at the first intermediate point s1), so an embedded
// pair of updates (the adaptive solvers) shares its evaluations. Filled in by the updates.
struct StepCache {
  Tensor at_s, at_s1;
};

class Stepper {
 public:
  Stepper(ModelWrapper& model, Algorithm algorithm) : model_(model), algorithm_(algorithm) {}

  // The model value this algorithm works with (ε̂ or x̂); one evaluation.
  Tensor evaluate(const Tensor& x, double t) const;

  // Singlestep updates of order 1, 2, 3 (r1, r2: the intermediate points as fractions of h).
  Tensor first(const Tensor& x, double s, double t, StepCache& cache) const;
  Tensor second(const Tensor& x, double s, double t, double r1, StepCache& cache) const;
  Tensor third(const Tensor& x, double s, double t, double r1, double r2, StepCache& cache) const;
  // Dispatches on order (1..3) with DPM-Solver's default ratios (½; ⅓, ⅔).
  Tensor singlestep(const Tensor& x, double s, double t, int order, double r1, double r2,
                    StepCache& cache) const;

  // Multistep update of `order` (1..3) to t from the last `order` entries of the history (model
  // values and their times, most recent last; the current x belongs to times.back()).
  // `d2_factor` multiplies the D2 term of the third-order update: 2 is correct; the public
  // reference code's 1 is only second order (kept behind DpmSolverOptions for comparison).
  Tensor multistep(const Tensor& x, const std::vector<Tensor>& values,
                   const std::vector<double>& times, double t, int order,
                   double d2_factor = 2.0) const;

  // Stochastic DDIM (η > 0; η = 0 is DPM-Solver-1): x_t = α_t x̂ + σ_t sqrt(1 − η²(1 − e^{−2h})) ε̂
  // + σ_t η sqrt(1 − e^{−2h}) z with z ~ N(0, I) from gen; η = 1 samples the ancestral posterior.
  Tensor ddim_stochastic(const Tensor& x, double s, double t, double eta, Generator& gen) const;

 private:
  struct Point {
    double la, ls, a, sig, lam;  // log α, log σ, α, σ, λ
  };
  Point at(double t) const;
  double time_at_lambda(double lambda) const;
  ModelWrapper& model_;
  Algorithm algorithm_;
};

}  // namespace diffvi::solvers
