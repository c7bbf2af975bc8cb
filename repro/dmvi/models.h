// The DMVI paper's models (REFERENCE.md §4) as vi::Models, with the true parameters drawn once
// from the prior and data simulated from them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "diffvi/vi/vi.h"

namespace diffvi::repro::dmvi {

struct Problem {
  std::string name;
  int64_t n = 0;
  std::unique_ptr<vi::Model> model;
  Tensor data;                // [N, k] f64
  std::vector<double> truth;  // θ* in unconstrained space [d]
  // Exact posterior mean and sd per coordinate (conjugate models only; empty otherwise).
  std::vector<double> exact_mean, exact_sd;
  double exact_log_evidence = 0;  // conjugate models only
};

// "mean", "mixture", "hierarchical1" … "hierarchical5".
const std::vector<std::string>& model_names();
// Draws θ* from the prior and N data points from the model with `seed`. ValueError for an
// unknown name.
Problem make_problem(const std::string& name, int64_t n, uint64_t seed);

}  // namespace diffvi::repro::dmvi
