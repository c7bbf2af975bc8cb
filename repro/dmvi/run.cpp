#include "dmvi/run.h"

#include <algorithm>
#include <cstdio>

#include "dmvi/models.h"

namespace diffvi::repro::dmvi {
namespace {

// What exact draws would score on a problem whose exact posterior is known (NaN otherwise): the
// paper's metric, and the Monte-Carlo floors of the errors of `draws` draws (see RunResult).
struct ExactYardsticks {
  double mse = NAN, floor_mean = NAN, floor_sd = NAN;
};

ExactYardsticks exact_yardsticks(const Problem& p, int64_t draws) {
  ExactYardsticks y;
  if (p.exact_mean.empty()) return y;
  const int64_t d = p.model->dim();
  // E(θ − θ*)² = (mean − θ*)² + sd², averaged over coordinates.
  double e = 0, v = 0;
  for (int64_t j = 0; j < d; ++j) {
    e += (p.exact_mean[j] - p.truth[j]) * (p.exact_mean[j] - p.truth[j]) +
         p.exact_sd[j] * p.exact_sd[j];
    v += p.exact_sd[j] * p.exact_sd[j] / d;
  }
  y.mse = e / d;
  y.floor_mean = std::sqrt(v / draws);
  y.floor_sd = std::sqrt(v / (2.0 * draws));
  return y;
}

double rms_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / a.size());
}

// The training objective (−bound for DMVI, −ELBO otherwise) over the last tenth of the run, and
// the fit's diagnostics on stderr.
void report_fit(const vi::Posterior& post, const std::string& method, RunResult& r) {
  if (!post.objective().empty()) {
    const auto& obj = post.objective();
    const size_t k = std::max<size_t>(1, obj.size() / 10);
    double a = 0;
    for (size_t i = obj.size() - k; i < obj.size(); ++i) a += obj[i];
    r.final_objective = -a / k;
    std::fprintf(stderr, "    %s: objective (last tenth) %.3f, fit %.1f s\n", method.c_str(),
                 r.final_objective, r.train_s);
  }
  if (post.guide()) r.n_params = post.guide()->num_parameters(true);
  if (const vi::NutsResult* nr = post.sampler_result<vi::NutsResult>()) {
    std::fprintf(stderr, "    nuts: max R-hat %.3f, min ESS %.0f, %lld divergences, %.1f s\n",
                 nr->max_r_hat(), nr->min_ess(), static_cast<long long>(nr->divergences),
                 r.train_s);
  }
}

void dmvi_bound(const Problem& p, const vi::Posterior& post, bool quick, Generator& gen,
                RunResult& r) {
  auto& g = dynamic_cast<vi::DmviGuide&>(*post.guide());
  const vi::LogDensityFn lp = [&](const Tensor& z) { return p.model->log_density(z); };
  const vi::BoundEstimate b = g.bound(lp, quick ? 2000 : 10000, gen);
  r.bound = b.value;
  r.bound_se = b.std_error;
  r.exact_log_evidence = p.exact_log_evidence;
  std::fprintf(stderr, "    dmvi bound %.3f ± %.3f", b.value, b.std_error);
  if (!p.exact_mean.empty()) std::fprintf(stderr, " (exact log p(y) %.3f)", p.exact_log_evidence);
  std::fprintf(stderr, "\n");
}

RunResult run_method(const Problem& p, const std::string& method, const Options& o, uint64_t seed) {
  RunResult r;
  vi::Posterior post = vi::fit(*p.model, fit_options(method, o, seed));
  r.train_s = post.fit_seconds();
  report_fit(post, method, r);
  Generator gen(seed + 1000);
  const auto t0 = Clock::now();
  r.draws = post.sample(o.draws, gen).to_vector<double>();
  r.sample_s = seconds_since(t0);
  const int64_t d = p.model->dim();
  double se = 0;
  for (size_t i = 0; i < r.draws.size(); ++i) {
    const double e = r.draws[i] - p.truth[i % d];
    se += e * e;
  }
  r.mse = se / r.draws.size();
  if (method == "dmvi") dmvi_bound(p, post, o.common.quick, gen, r);
  return r;
}

void print_details(const Problem& p, const std::vector<double>& m, const std::vector<double>& sd,
                   const std::vector<double>& ref_m, const std::vector<double>& ref_sd) {
  const auto names = p.model->coordinate_names();
  for (int64_t j = 0; j < p.model->dim(); ++j) {
    std::fprintf(stderr, "      %-16s mean %8.4f (ref %8.4f)  sd %7.4f (ref %7.4f)\n",
                 names[j].c_str(), m[j], ref_m[j], sd[j], ref_sd[j]);
  }
}

// Every method on one seed's problem, appended to `cell`.
void run_seed(const Options& o, uint64_t seed, bool first, Clock::time_point start,
              CellResult& cell) {
  Problem p = make_problem(cell.model, cell.n, seed);
  const int64_t d = p.model->dim();
  cell.coordinate_names = p.model->coordinate_names();
  const ExactYardsticks exact = exact_yardsticks(p, o.draws);
  // The reference: the exact posterior where it is known, else NUTS (run first).
  std::vector<double> ref_m = p.exact_mean, ref_sd = p.exact_sd;
  for (const std::string& method : o.methods) {
    std::fprintf(stderr, "[%.0fs] %s N=%lld seed %llu: %s\n", seconds_since(start),
                 cell.model.c_str(), static_cast<long long>(cell.n),
                 static_cast<unsigned long long>(seed), method.c_str());
    RunResult r = run_method(p, method, o, seed);
    r.exact_mse = exact.mse;
    r.floor_mean = exact.floor_mean;
    r.floor_sd = exact.floor_sd;
    std::vector<double> m, sd;
    moments(r.draws, d, m, sd);
    if (method == "nuts" && p.exact_mean.empty()) ref_m = m, ref_sd = sd;
    if (ref_m.empty()) {
      throw ValueError("--methods must start with nuts for " + cell.model +
                       " (no exact posterior to compare with)");
    }
    if (o.details) print_details(p, m, sd, ref_m, ref_sd);
    r.mean_err = rms_diff(m, ref_m);
    r.sd_err = rms_diff(sd, ref_sd);
    if (first && method == "dmvi") cell.dmvi_draws = r.draws;
    if (first && method == "nuts") cell.nuts_draws = r.draws;
    r.draws.clear();
    cell.runs[method].push_back(std::move(r));
  }
}

}  // namespace

vi::FitOptions fit_options(const std::string& method, const Options& o, uint64_t seed) {
  const bool quick = o.common.quick;
  const DmviOverrides& s = o.dmvi;
  vi::FitOptions f;
  f.seed = seed;
  if (method == "dmvi") {
    // DMVI's registered defaults (methods/dmvi/register.cpp; docs/dmvi.md says how they were
    // chosen against the paper's): 5000 steps at lr 2e-3 decayed to 1%, weight decay 1e-5, 48
    // draws per step, DmviOptions{}. --quick runs 2000 steps.
    f.method = "dmvi";
    if (quick) f.steps = 2000;
    vi::DmviOptions dm;
    if (s.steps > 0) f.steps = s.steps;
    if (s.T > 0) dm.num_steps = s.T;
    if (s.particles > 0) f.num_particles = s.particles;
    if (s.lr > 0) f.lr = s.lr;
    if (s.dropout >= 0) dm.dropout = s.dropout;
    if (s.hidden > 0) dm.hidden = s.hidden;
    if (s.no_gains) dm.learn_gains = false;
    if (s.order > 0) dm.order = s.order;
    if (s.advi_steps >= 0) dm.advi_steps = s.advi_steps;
    if (s.t_min > 0) dm.t_min = s.t_min;
    if (s.no_stl) dm.stick_the_landing = false;
    if (s.no_scales) dm.learn_scales = false;
    f.set_method_options(dm);
  } else if (method == "advi") {
    f.method = "advi";
    f.steps = quick ? 2000 : 5000;
    f.lr = 1e-2;
    f.num_particles = 16;
  } else if (method == "nfvi") {
    f.method = "maf";
    f.steps = quick ? 1500 : 4000;
    f.lr = 1e-3;
    f.num_particles = 8;
  } else {
    f.method = "nuts";
    vi::NutsOptions nuts;
    nuts.num_chains = 4;
    nuts.num_warmup = quick ? 500 : 1000;
    nuts.num_samples = quick ? 1000 : 5000;
    f.set_method_options(nuts);
  }
  return f;
}

CellResult run_cell(const Options& o, const std::string& model, int64_t n,
                    Clock::time_point start) {
  CellResult cell;
  cell.model = model;
  cell.n = n;
  for (int k = 0; k < o.seeds; ++k) run_seed(o, o.common.seed + k, k == 0, start, cell);
  return cell;
}

void moments(const std::vector<double>& z, int64_t d, std::vector<double>& m,
             std::vector<double>& sd) {
  const int64_t n = static_cast<int64_t>(z.size()) / d;
  m.assign(d, 0.0);
  sd.assign(d, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) m[j] += z[i * d + j];
  }
  for (double& x : m) x /= n;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < d; ++j) sd[j] += (z[i * d + j] - m[j]) * (z[i * d + j] - m[j]);
  }
  for (double& x : sd) x = std::sqrt(x / (n - 1));
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace diffvi::repro::dmvi
