// NUTS driver: runs the chain coroutines (nuts_chain.cpp), batching their gradient requests,
// and summarises the draws.
#include "diffvi/vi/mcmc/nuts.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "diffvi/tensor/errors.h"
#include "diffvi/vi/mcmc/diagnostics.h"
#include "diffvi/vi/mcmc/nuts_chain.h"

namespace diffvi::vi {

using detail::Chain;
using detail::ChainTask;
using detail::run_chain;

NutsResult nuts(const BatchedLogDensity& f, int64_t dim, const NutsOptions& o) {
  if (dim <= 0) throw ValueError("nuts: dimension must be positive");
  if (o.num_chains <= 0 || o.num_samples < 4 || o.num_warmup < 0 || o.max_tree_depth <= 0) {
    throw ValueError(
        "nuts: need num_chains > 0, num_samples >= 4, num_warmup >= 0 and "
        "max_tree_depth > 0");
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const int64_t C = o.num_chains;
  std::vector<Chain> chains(C);
  std::vector<ChainTask> tasks;
  tasks.reserve(C);
  for (int64_t c = 0; c < C; ++c) {
    chains[c].d = dim;
    chains[c].rng.manual_seed(o.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(c) * 7919 + 1);
    chains[c].result_grad.assign(dim, 0.0);
    tasks.push_back(run_chain(chains[c], o));
  }
  NutsResult r;
  auto resume = [&](int64_t c) {
    chains[c].waiting = false;
    tasks[c].handle.resume();
    if (tasks[c].handle.done() && tasks[c].handle.promise().error) {
      std::rethrow_exception(tasks[c].handle.promise().error);
    }
  };
  double warmup_end = 0;
  std::vector<bool> warm(C, false);
  for (int64_t c = 0; c < C; ++c) resume(c);
  std::vector<double> z, logp, grad;
  std::vector<int64_t> active;
  while (true) {
    active.clear();
    for (int64_t c = 0; c < C; ++c) {
      if (!tasks[c].handle.done() && chains[c].waiting) active.push_back(c);
    }
    if (active.empty()) break;
    const int64_t n = static_cast<int64_t>(active.size());
    z.resize(n * dim);
    logp.resize(n);
    grad.resize(n * dim);
    for (int64_t k = 0; k < n; ++k) {
      std::copy(chains[active[k]].request.begin(), chains[active[k]].request.end(),
                z.begin() + k * dim);
    }
    f(z.data(), n, logp.data(), grad.data());
    ++r.batched_evaluations;
    for (int64_t k = 0; k < n; ++k) {
      Chain& ch = chains[active[k]];
      ch.result_logp = logp[k];
      std::copy(grad.begin() + k * dim, grad.begin() + (k + 1) * dim, ch.result_grad.begin());
      ++ch.gradient_evals;
      resume(active[k]);
      if (ch.warmup_done && !warm[active[k]]) {
        warm[active[k]] = true;
        warmup_end = std::chrono::duration<double>(Clock::now() - start).count();
      }
    }
  }
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  r.num_chains = C;
  r.num_samples = o.num_samples;
  r.dim = dim;
  double accept = 0, depth = 0;
  for (Chain& ch : chains) {
    r.draws.insert(r.draws.end(), ch.draws.begin(), ch.draws.end());
    r.log_density.insert(r.log_density.end(), ch.lps.begin(), ch.lps.end());
    r.step_size.push_back(ch.step_size);
    r.inverse_metric.push_back(ch.inv_metric);
    r.divergences += ch.divergences;
    r.gradient_evaluations += ch.gradient_evals;
    accept += ch.accept_sum;
    depth += ch.depth_sum;
  }
  r.mean_accept_stat = accept / (C * o.num_samples);
  r.mean_tree_depth = depth / (C * o.num_samples);
  r.warmup_seconds = warmup_end;
  r.sampling_seconds = total - warmup_end;
  return r;
}

std::vector<std::vector<double>> NutsResult::chains(int64_t coord) const {
  std::vector<std::vector<double>> out(num_chains, std::vector<double>(num_samples));
  for (int64_t c = 0; c < num_chains; ++c) {
    for (int64_t i = 0; i < num_samples; ++i) out[c][i] = draw(c, i, coord);
  }
  return out;
}

double NutsResult::mean(int64_t coord) const {
  double s = 0;
  for (int64_t c = 0; c < num_chains; ++c) {
    for (int64_t i = 0; i < num_samples; ++i) s += draw(c, i, coord);
  }
  return s / (num_chains * num_samples);
}

double NutsResult::sd(int64_t coord) const {
  const double m = mean(coord);
  double s = 0;
  for (int64_t c = 0; c < num_chains; ++c) {
    for (int64_t i = 0; i < num_samples; ++i)
      s += (draw(c, i, coord) - m) * (draw(c, i, coord) - m);
  }
  return std::sqrt(s / (num_chains * num_samples - 1));
}

double NutsResult::r_hat(int64_t coord) const { return split_rhat(chains(coord)); }
double NutsResult::ess(int64_t coord) const { return effective_sample_size(chains(coord)); }

double NutsResult::max_r_hat() const {
  double m = 0;
  for (int64_t k = 0; k < dim; ++k) m = std::max(m, r_hat(k));
  return m;
}

double NutsResult::min_ess() const {
  double m = std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < dim; ++k) m = std::min(m, ess(k));
  return m;
}

}  // namespace diffvi::vi
