// repro-dmvi's experiments: every method on every seed of one model and N, scored against the
// exact posterior where it is known and against NUTS otherwise.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "diffvi/vi/vi.h"
#include "dmvi/cli.h"

namespace diffvi::repro::dmvi {

using Clock = std::chrono::steady_clock;

struct RunResult {
  double mse = 0, mean_err = 0, sd_err = 0, train_s = 0, sample_s = 0, final_objective = 0;
  double bound = 0, bound_se = 0, exact_log_evidence = 0;  // DMVI; the last where it is known
  double exact_mse = NAN;  // the paper's metric for the exact posterior, where it is known
  // The RMS errors that `draws` exact draws would have from Monte-Carlo noise alone (the
  // smallest error these draws can resolve): sqrt(mean_j sd_j² / n) for the means,
  // sqrt(mean_j sd_j² / 2n) for the sds.
  double floor_mean = NAN, floor_sd = NAN;
  int64_t n_params = 0;
  std::vector<double> draws;
};

// One model and N: each method's results over the seeds, and the first seed's DMVI and NUTS
// draws (for the figure; empty where the method was not run).
struct CellResult {
  std::string model;
  int64_t n = 0;
  std::map<std::string, std::vector<RunResult>> runs;
  std::vector<std::string> coordinate_names;
  std::vector<double> dmvi_draws, nuts_draws;
};

// The one place that turns the command line into vi::fit's options for `method`.
vi::FitOptions fit_options(const std::string& method, const Options& o, uint64_t seed);

// ValueError where --methods does not start with nuts on a model without an exact posterior.
CellResult run_cell(const Options& o, const std::string& model, int64_t n, Clock::time_point start);

// Per-coordinate means and sds of draws [n, d].
void moments(const std::vector<double>& z, int64_t d, std::vector<double>& m,
             std::vector<double>& sd);

double seconds_since(Clock::time_point t);

}  // namespace diffvi::repro::dmvi
