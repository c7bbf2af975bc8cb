// repro-dmvi: DMVI against ADVI (mean-field), NFVI (2-layer MAF, MADE [256, 256]) and NUTS on
// the paper's models (REFERENCE.md §4). Each seed draws its own true parameters and data.
//
// Writes DIR/results.json ({"rows": [...]}, one row per model, N and method, averaged over
// seeds), DIR/results.md (our table beside the paper's figures) and DIR/<model>-<n>.png (DMVI
// draws over a NUTS density for a few coordinate pairs).
#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/plot.h"
#include "diffvi/tensor/threads.h"
#include "dmvi/models.h"

namespace {

namespace dm = diffvi::repro::dmvi;
namespace vi = diffvi::vi;
using diffvi::Tensor;
using json = nlohmann::json;

struct Settings {
  bool quick = false;
  bool details = false;
  int64_t draws = 20000;
  int64_t dmvi_steps = 0;  // 0: the default for quick / full
  int64_t dmvi_T = 0;
  int64_t dmvi_particles = 0;
  double dmvi_lr = 0;
  double dmvi_dropout = -1;
  int64_t dmvi_hidden = 0;
  bool dmvi_no_gains = false;
  int dmvi_order = 0;
  int64_t dmvi_advi_steps = -1;
  double dmvi_t_min = 0;
  bool dmvi_no_stl = false;
  bool dmvi_no_scales = false;
};

double now_s(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

vi::FitOptions method_options(const std::string& method, const Settings& s, uint64_t seed) {
  vi::FitOptions o;
  o.seed = seed;
  if (method == "dmvi") {
    // DMVI's registered defaults (methods/dmvi/register.cpp; docs/dmvi.md says how they were
    // chosen against the paper's): 5000 steps at lr 2e-3 decayed to 1%, weight decay 1e-5, 48
    // draws per step, DmviOptions{}. --quick runs 2000 steps.
    o.method = "dmvi";
    if (s.quick) o.steps = 2000;
    vi::DmviOptions dm;
    if (s.dmvi_steps > 0) o.steps = s.dmvi_steps;
    if (s.dmvi_T > 0) dm.num_steps = s.dmvi_T;
    if (s.dmvi_particles > 0) o.num_particles = s.dmvi_particles;
    if (s.dmvi_lr > 0) o.lr = s.dmvi_lr;
    if (s.dmvi_dropout >= 0) dm.dropout = s.dmvi_dropout;
    if (s.dmvi_hidden > 0) dm.hidden = s.dmvi_hidden;
    if (s.dmvi_no_gains) dm.learn_gains = false;
    if (s.dmvi_order > 0) dm.order = s.dmvi_order;
    if (s.dmvi_advi_steps >= 0) dm.advi_steps = s.dmvi_advi_steps;
    if (s.dmvi_t_min > 0) dm.t_min = s.dmvi_t_min;
    if (s.dmvi_no_stl) dm.stick_the_landing = false;
    if (s.dmvi_no_scales) dm.learn_scales = false;
    o.set_method_options(dm);
  } else if (method == "advi") {
    o.method = "advi";
    o.steps = s.quick ? 2000 : 5000;
    o.lr = 1e-2;
    o.num_particles = 16;
  } else if (method == "nfvi") {
    o.method = "maf";
    o.steps = s.quick ? 1500 : 4000;
    o.lr = 1e-3;
    o.num_particles = 8;
  } else {
    o.method = "nuts";
    vi::NutsOptions nuts;
    nuts.num_chains = 4;
    nuts.num_warmup = s.quick ? 500 : 1000;
    nuts.num_samples = s.quick ? 1000 : 5000;
    o.set_method_options(nuts);
  }
  return o;
}

// Per-coordinate means and sds of draws [n, d].
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

double rms_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / a.size());
}

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

// What exact draws would score on a problem whose exact posterior is known (NaN otherwise): the
// paper's metric, and the Monte-Carlo floors of the errors of `draws` draws (see RunResult).
struct ExactYardsticks {
  double mse = NAN, floor_mean = NAN, floor_sd = NAN;
};

ExactYardsticks exact_yardsticks(const dm::Problem& p, int64_t draws) {
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

RunResult run_method(const dm::Problem& p, const std::string& method, const Settings& s,
                     uint64_t seed) {
  RunResult r;
  vi::Posterior post = vi::fit(*p.model, method_options(method, s, seed));
  r.train_s = post.fit_seconds();
  if (!post.objective().empty()) {
    // The training objective (−bound for DMVI, −ELBO otherwise) over the last tenth of the run.
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
  diffvi::Generator gen(seed + 1000);
  const auto t0 = std::chrono::steady_clock::now();
  r.draws = post.sample(s.draws, gen).to_vector<double>();
  r.sample_s = now_s(t0);
  const int64_t d = p.model->dim();
  double se = 0;
  for (size_t i = 0; i < r.draws.size(); ++i) {
    const double e = r.draws[i] - p.truth[i % d];
    se += e * e;
  }
  r.mse = se / r.draws.size();
  if (method == "dmvi") {
    auto& g = dynamic_cast<vi::DmviGuide&>(*post.guide());
    const vi::LogDensityFn lp = [&](const Tensor& z) { return p.model->log_density(z); };
    const vi::BoundEstimate b = g.bound(lp, s.quick ? 2000 : 10000, gen);
    r.bound = b.value;
    r.bound_se = b.std_error;
    r.exact_log_evidence = p.exact_log_evidence;
    std::fprintf(stderr, "    dmvi bound %.3f ± %.3f", b.value, b.std_error);
    if (!p.exact_mean.empty()) std::fprintf(stderr, " (exact log p(y) %.3f)", p.exact_log_evidence);
    std::fprintf(stderr, "\n");
  }
  return r;
}

// DMVI draws over a 2-D histogram of NUTS draws, for three coordinate pairs.
void pair_plot(const std::vector<std::string>& names, const std::vector<double>& dmvi,
               const std::vector<double>& nuts, const std::filesystem::path& path) {
  const int64_t d = static_cast<int64_t>(names.size());
  std::vector<std::pair<int64_t, int64_t>> pairs{
      {0, 1 % d}, {d / 2, (d / 2 + 1) % d}, {d - 1, (d - 2 + d) % d}};
  diffvi::repro::Canvas canvas(1260, 460);
  const int grid = 80, shown = 2000;
  int col = 0;
  for (auto [a, b] : pairs) {
    diffvi::repro::DensityScatter plot;
    plot.title = names[a] + " vs " + names[b];
    std::vector<double> m, sd;
    moments(nuts, d, m, sd);
    plot.x_min = m[a] - 4 * sd[a], plot.x_max = m[a] + 4 * sd[a];
    plot.y_min = m[b] - 4 * sd[b], plot.y_max = m[b] + 4 * sd[b];
    plot.nx = plot.ny = grid;
    plot.density.assign(grid * grid, 0.0);
    const int64_t n_nuts = static_cast<int64_t>(nuts.size()) / d;
    for (int64_t i = 0; i < n_nuts; ++i) {
      const double fx = (nuts[i * d + a] - plot.x_min) / (plot.x_max - plot.x_min);
      const double fy = (nuts[i * d + b] - plot.y_min) / (plot.y_max - plot.y_min);
      const int ix = static_cast<int>(fx * grid), iy = static_cast<int>(fy * grid);
      if (ix >= 0 && ix < grid && iy >= 0 && iy < grid) plot.density[iy * grid + ix] += 1;
    }
    const int64_t n_dmvi = std::min<int64_t>(shown, static_cast<int64_t>(dmvi.size()) / d);
    for (int64_t i = 0; i < n_dmvi; ++i) {
      plot.px.push_back(dmvi[i * d + a]);
      plot.py.push_back(dmvi[i * d + b]);
    }
    diffvi::repro::draw_density_scatter(canvas, {col++ * 420, 0, 420, 460}, plot);
  }
  canvas.save_png(path.string());
}

// The paper's MSE (REFERENCE §4 table) where it reports one.
json paper_figure(const std::string& model, int64_t n, const std::string& method) {
  static const std::map<std::string, std::array<double, 3>> t{
      {"mean-100", {0.07, 0.11, 0.09}},           {"mean-1000", {0.06, 0.06, 0.07}},
      {"mixture-100", {0.89, 8.59, 0.89}},        {"mixture-1000", {0.77, 0.75, 0.85}},
      {"hierarchical5-100", {0.46, 11.77, 0.62}}, {"hierarchical5-1000", {1.07, 2.54, 3.99}}};
  auto it = t.find(model + "-" + std::to_string(n));
  const int k = method == "dmvi" ? 0 : method == "advi" ? 1 : method == "nfvi" ? 2 : -1;
  if (it == t.end() || k < 0) return nullptr;
  return it->second[k];
}

std::string fmt(double x, int prec = 3) {
  if (std::isnan(x)) return "–";
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << x;
  return s.str();
}

template <class T>
std::string join(const std::vector<T>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

// Why our numbers and the paper's differ (REFERENCE §4); the measured side is in the tables.
std::string paper_notes() {
  return R"(## Against the paper's figures

The paper's column is its Figure/Table value (REFERENCE.md §4: 5 seeds, DMVI with 10 DPM-Solver
steps of order 3). They are not directly comparable with ours, and we do not tune towards them:

- The metric measures draws against one true θ* drawn from the prior, so it depends on which truth
  and data were drawn; the paper drew one truth per model, we draw a fresh one per seed. The NUTS
  row is what an exact posterior scores on the same data — that, not the paper's number, is
  the yardstick, and a method scoring *below* NUTS is over-confident, not better.
- The paper's ADVI and flow baselines maximise E_q[log p + log q] (entropy with the wrong sign),
  which collapses them towards the mode: that is where its very large ADVI values (11.77 on
  hierarchical 5, N = 100) come from. Ours use the correct ELBO and land near NUTS.
- The paper's DMVI objective is not a bound (prior counted per data point, likelihood not rescaled
  by N/|b|, a mis-scaled denoising loss, 50/100 β-steps that never reach noise, dropout on at
  sampling); ours is the auxiliary-variable bound of a stochastic DPM-Solver++ chain that starts
  from noise, trained without dropout (the mask noise made the learned noise scales too narrow
  for the dropout-free draws) and with a 128-wide network on 48 draws per step.
- The yardstick is the exact posterior wherever it is known: `mean` is conjugate, and
  hierarchical 1–5 are Gaussian given their one or two scales, so their posteriors are computed by
  quadrature over the log-scales (repro/dmvi/exact.h, tested against an independent dense
  computation and long NUTS runs). NUTS is the yardstick only on `mixture`, where its chains settle
  in different label permutations (R-hat far above 1), so errors there mean little. The NUTS rows
  show NUTS's own error against the exact posterior (it has divergences on hierarchical 4–5).
- What remains, honestly: on the funnel-shaped posteriors of hierarchical 4–5 (σ_γ over 2 or 5
  groups, σ_β over 2 per group) every variational method here under-disperses (reverse KL), so its
  MSE sits below the exact posterior's; DMVI's bound is furthest below log p(y) there (the bounds
  table above). On hierarchical 5 its sd error falls only slowly with more chain steps (the long
  left tails of the log-scales are learned last), which the fit-time budget caps; more
  transitions, draws or width, an importance-weighted bound and learned non-centring did not
  help (docs/vi.md has the figures).
)";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"repro-dmvi: DMVI vs ADVI, NFVI and NUTS on the paper's models"};
  Settings s;
  std::string out = "results/dmvi";
  std::vector<std::string> models;
  std::vector<int64_t> ns{100, 1000};
  int seeds = 5, threads = 1;
  app.add_flag("--quick", s.quick, "hierarchical5 and mean at N = 100, one seed, short training");
  app.add_option("--out", out, "output directory")->capture_default_str();
  app.add_option("--models", models, "models (mean, mixture, hierarchical1..5)")->delimiter(',');
  app.add_option("--n", ns, "data set sizes")->delimiter(',');
  app.add_option("--seeds", seeds, "seeds per model and N")->capture_default_str();
  app.add_option("--threads", threads, "threads for diffvi")->capture_default_str();
  std::vector<std::string> methods{"nuts", "dmvi", "advi", "nfvi"};
  app.add_option("--methods", methods, "methods (nuts first: it is the reference)")->delimiter(',');
  app.add_option("--draws", s.draws, "final draws per method")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--details", s.details, "print per-coordinate means and sds to stderr");
  app.add_option("--dmvi-steps", s.dmvi_steps, "override DMVI's optimisation steps");
  app.add_option("--dmvi-T", s.dmvi_T, "override DMVI's number of transitions");
  app.add_option("--dmvi-particles", s.dmvi_particles, "override DMVI's draws per step");
  app.add_option("--dmvi-lr", s.dmvi_lr, "override DMVI's learning rate");
  app.add_option("--dmvi-dropout", s.dmvi_dropout, "override DMVI's dropout rate");
  app.add_option("--dmvi-hidden", s.dmvi_hidden, "override DMVI's network width");
  app.add_flag("--dmvi-no-gains", s.dmvi_no_gains, "DMVI without the learned gains on x̂");
  app.add_option("--dmvi-order", s.dmvi_order, "override DMVI's solver-step order (1, 2)");
  app.add_option("--dmvi-advi-steps", s.dmvi_advi_steps,
                 "override DMVI's full-rank ADVI steps for its affine map");
  app.add_option("--dmvi-t-min", s.dmvi_t_min, "override DMVI's time of the last noisy state");
  app.add_flag("--dmvi-no-scales", s.dmvi_no_scales,
               "DMVI without its learned state-dependent noise scales (DmviOptions::learn_scales)");
  app.add_flag("--dmvi-no-stl", s.dmvi_no_stl,
               "DMVI's plain reparameterised gradient instead of sticking the landing");
  CLI11_PARSE(app, argc, argv);
  std::string command_line;
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  try {
    const auto start = std::chrono::steady_clock::now();
    diffvi::set_num_threads(threads);
    if (s.quick) {
      if (models.empty()) models = {"hierarchical5", "mean"};
      if (app.count("--n") == 0) ns = {100};
      if (app.count("--seeds") == 0) seeds = 1;
    }
    if (models.empty()) models = dm::model_names();
    std::filesystem::create_directories(out);
    const std::filesystem::path dir(out);
    json rows = json::array(), bounds = json::array();
    std::ostringstream table, targets, bound_md, bound_notes;
    auto write_outputs = [&](bool finished) {
      std::ofstream(dir / "results.json") << json{{"rows", rows}}.dump(2) << "\n";
      std::ofstream(dir / "bounds.json") << json{{"bounds", bounds}}.dump(2) << "\n";
      std::ostringstream md;
      md << "# DMVI reproduction (`repro-dmvi" << command_line << "`)\n\n"
         << (finished ? "" : "**Partial: the run was still going when this was written.**\n\n")
         << "Models " << join(models) << "; N " << join(ns) << "; " << seeds
         << " seed(s) (seed s draws its own truth θ* and data from the prior); " << s.draws
         << " draws per method. Wall time so far " << fmt(now_s(start), 0) << " s.\n\n"
         << "MSE = the paper's metric, mean over draws and coordinates of (θ_s − θ*)² in "
            "unconstrained space (bias² + posterior variance against one truth); `MSE sd` is its "
            "sd over seeds. Errors are RMS over coordinates of the posterior means and sds against "
            "the exact posterior (closed form for `mean`; quadrature over the log-scales for "
            "hierarchical 1–5, repro/dmvi/exact.h), against NUTS for `mixture`, averaged over "
            "seeds, so the NUTS rows show how far NUTS itself is from exact. Train/draw times "
            "are wall seconds on one thread of the shared 2-core box.\n\n"
         << "| model | N | method | MSE (ours) | MSE sd | MSE (paper) | post mean err | "
            "post sd err | train s | 20k draws s | params |\n|---|---|---|---|---|---|---|---|---"
            "|---|---|\n"
         << table.str() << "\n## Targets (issue 6)\n\n"
         << "Hierarchical models: DMVI's mean/sd errors vs the exact posterior no larger than "
            "NFVI's and well below ADVI's (we call ≤ 0.5× 'well below'), and DMVI's MSE within 10% "
            "of the MSE of the NUTS draws (the exact posterior's MSE beside it). Mean model: bound "
            "below the exact log evidence and within 0.5 nats, errors vs the exact posterior < "
            "0.05. Fit ≤ 20 s at N = 100, 20k draws ≤ 1 s.\n\n"
         << "The targets are for hierarchical 1–5 and `mean`; on `mixture` NUTS chains settle in "
            "different label permutations, so NUTS is no gold standard there (its MSE is inflated "
            "by label switching) and the errors against it are not meaningful.\n\n"
         << "`MC floor` is the RMS error that exact draws would have from Monte-Carlo noise alone "
            "with this many draws (sqrt(mean sd²/n) for means, sqrt(mean sd²/2n) for sds): errors "
            "at that level are indistinguishable, so a '≤ ½ ADVI' that asks for less is marked.\n\n"
         << "| model | N | mean err DMVI / NFVI / ADVI | sd err DMVI / NFVI / ADVI | "
            "MC floor mean / sd | MSE DMVI / NUTS (exact) | ≤ NFVI | ≤ ½ ADVI | MSE ±10% | "
            "mean model | fit s | draws s |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
         << targets.str() << "\n## DMVI bound on log p(y)\n\n"
         << "| model | N | bound (mean over seeds) | ± MC se | exact log p(y) | gap |\n"
            "|---|---|---|---|---|---|\n"
         << bound_md.str() << "\n"
         << bound_notes.str() << paper_notes();
      std::ofstream(dir / "results.md") << md.str();
    };
    for (const std::string& model : models) {
      for (int64_t n : ns) {
        std::map<std::string, std::vector<RunResult>> res;
        std::vector<double> dmvi_draws, nuts_draws;
        std::vector<std::string> coordinate_names;
        for (int seed = 0; seed < seeds; ++seed) {
          dm::Problem p = dm::make_problem(model, n, seed);
          const int64_t d = p.model->dim();
          coordinate_names = p.model->coordinate_names();
          const ExactYardsticks exact = exact_yardsticks(p, s.draws);
          // The reference: the exact posterior where it is known, else NUTS (run first).
          std::vector<double> ref_m = p.exact_mean, ref_sd = p.exact_sd;
          for (const std::string& method : methods) {
            std::fprintf(stderr, "[%.0fs] %s N=%lld seed %d: %s\n", now_s(start), model.c_str(),
                         static_cast<long long>(n), seed, method.c_str());
            RunResult r = run_method(p, method, s, seed);
            r.exact_mse = exact.mse;
            r.floor_mean = exact.floor_mean;
            r.floor_sd = exact.floor_sd;
            std::vector<double> m, sd;
            moments(r.draws, d, m, sd);
            if (method == "nuts" && p.exact_mean.empty()) ref_m = m, ref_sd = sd;
            if (ref_m.empty()) {
              throw diffvi::ValueError("--methods must start with nuts for " + model +
                                       " (no exact posterior to compare with)");
            }
            if (s.details) {
              const auto names = p.model->coordinate_names();
              for (int64_t j = 0; j < d; ++j) {
                std::fprintf(stderr, "      %-16s mean %8.4f (ref %8.4f)  sd %7.4f (ref %7.4f)\n",
                             names[j].c_str(), m[j], ref_m[j], sd[j], ref_sd[j]);
              }
            }
            r.mean_err = rms_diff(m, ref_m);
            r.sd_err = rms_diff(sd, ref_sd);
            if (seed == 0 && method == "dmvi") dmvi_draws = r.draws;
            if (seed == 0 && method == "nuts") nuts_draws = r.draws;
            r.draws.clear();
            res[method].push_back(std::move(r));
          }
        }
        std::map<std::string, json> by_method;
        for (const std::string& method : methods) {
          const auto& v = res[method];
          auto avg = [&](auto f) {
            double a = 0;
            for (const RunResult& r : v) a += f(r);
            return a / v.size();
          };
          const double mse = avg([](const RunResult& r) { return r.mse; });
          const double mse_sd = v.size() > 1 ? std::sqrt(avg([&](const RunResult& r) {
                                                           return (r.mse - mse) * (r.mse - mse);
                                                         }) *
                                                         v.size() / (v.size() - 1))
                                             : 0.0;
          json row{{"model", model},
                   {"n", n},
                   {"method", method},
                   {"mse_mean", mse},
                   {"mse_sd", mse_sd},
                   {"post_mean_err", avg([](const RunResult& r) { return r.mean_err; })},
                   {"post_sd_err", avg([](const RunResult& r) { return r.sd_err; })},
                   {"train_s", avg([](const RunResult& r) { return r.train_s; })},
                   {"sample_s", avg([](const RunResult& r) { return r.sample_s; })},
                   {"n_params", v.front().n_params}};
          rows.push_back(row);
          by_method[method] = row;
          const json paper = paper_figure(model, n, method);
          table << "| " << model << " | " << n << " | " << method << " | " << fmt(mse) << " | "
                << fmt(mse_sd) << " | " << (paper.is_null() ? "–" : fmt(paper.get<double>(), 2))
                << " | " << fmt(row["post_mean_err"].get<double>()) << " | "
                << fmt(row["post_sd_err"].get<double>()) << " | "
                << fmt(row["train_s"].get<double>(), 1) << " | "
                << fmt(row["sample_s"].get<double>(), 2) << " | " << v.front().n_params << " |\n";
          if (method == "dmvi") {
            const double b = avg([](const RunResult& r) { return r.bound; });
            const double se = std::sqrt(
                avg([](const RunResult& r) { return r.bound_se * r.bound_se; }) / v.size());
            json jb{{"model", model},
                    {"n", n},
                    {"bound", b},
                    {"bound_se", se},
                    {"per_seed", json::array()}};
            for (const RunResult& r : v) jb["per_seed"].push_back(r.bound);
            const bool exact = !std::isnan(v.front().exact_mse);
            const double ev = avg([](const RunResult& r) { return r.exact_log_evidence; });
            if (exact) {
              jb["exact_log_evidence"] = ev;
              jb["exact_mse"] = avg([](const RunResult& r) { return r.exact_mse; });
            }
            bounds.push_back(jb);
            bound_md << "| " << model << " | " << n << " | " << fmt(b) << " | " << fmt(se) << " | "
                     << (exact ? fmt(ev) : "–") << " | " << (exact ? fmt(ev - b) : "–") << " |\n";
            if (exact) {
              double worst_gap = 0;
              bool below = true;
              for (const RunResult& r : v) {
                worst_gap = std::max(worst_gap, r.exact_log_evidence - r.bound);
                below = below && r.bound < r.exact_log_evidence + 3 * r.bound_se;
              }
              std::fprintf(stderr, "    exact log p(y) − bound, worst seed: %.3f\n", worst_gap);
              bound_notes << model << ", N = " << n << ": every seed's bound below its exact "
                          << "log p(y) (within 3 MC se): " << (below ? "yes" : "NO")
                          << "; largest gap " << fmt(worst_gap) << " nats.\n\n";
            }
          }
        }
        if (by_method.count("dmvi") && by_method.count("nuts")) {
          const json& dm_ = by_method["dmvi"];
          const json& nu = by_method["nuts"];
          auto get = [&](const char* m, const char* k) {
            return by_method.count(m) ? by_method[m][k].get<double>() : NAN;
          };
          const double me = dm_["post_mean_err"], se = dm_["post_sd_err"];
          const double ratio = dm_["mse_mean"].get<double>() / nu["mse_mean"].get<double>();
          auto yn = [](bool b) { return std::string(b ? "yes" : "**no**"); };
          std::string c_nfvi = "–", c_advi = "–", c_mse = "–", c_exact = "–";
          double floor_mean = 0, floor_sd = 0;
          for (const RunResult& r : res["dmvi"]) {
            floor_mean += r.floor_mean / res["dmvi"].size();
            floor_sd += r.floor_sd / res["dmvi"].size();
          }
          if (model == "mean") {
            bool ok = me < 0.05 && se < 0.05;
            for (const RunResult& r : res["dmvi"]) {
              const double gap = r.exact_log_evidence - r.bound;
              ok = ok && gap > -3 * r.bound_se && gap < 0.5;
            }
            c_exact = yn(ok);
          } else {
            c_nfvi = yn(me <= get("nfvi", "post_mean_err") && se <= get("nfvi", "post_sd_err"));
            const double am = get("advi", "post_mean_err"), as = get("advi", "post_sd_err");
            c_advi = yn(me <= 0.5 * am && se <= 0.5 * as);
            // Where every half of ADVI's error that DMVI misses is below what the draws can
            // resolve, say so.
            const bool mean_missed = me > 0.5 * am, sd_missed = se > 0.5 * as;
            if ((mean_missed || sd_missed) && (!mean_missed || 0.5 * am < floor_mean) &&
                (!sd_missed || 0.5 * as < floor_sd)) {
              c_advi += " (½ ADVI < MC floor)";
            }
            c_mse = yn(std::abs(ratio - 1) <= 0.1);
          }
          const double fit_s = dm_["train_s"], draw_s = dm_["sample_s"];
          double exact_mse = 0;
          for (const RunResult& r : res["dmvi"]) exact_mse += r.exact_mse / res["dmvi"].size();
          targets << "| " << model << " | " << n << " | " << fmt(me) << " / "
                  << fmt(get("nfvi", "post_mean_err")) << " / " << fmt(get("advi", "post_mean_err"))
                  << " | " << fmt(se) << " / " << fmt(get("nfvi", "post_sd_err")) << " / "
                  << fmt(get("advi", "post_sd_err")) << " | " << fmt(floor_mean) << " / "
                  << fmt(floor_sd) << " | " << fmt(dm_["mse_mean"].get<double>()) << " / "
                  << fmt(nu["mse_mean"].get<double>()) << " (" << fmt(exact_mse)
                  << "): " << fmt(ratio, 2) << "× | " << c_nfvi << " | " << c_advi << " | " << c_mse
                  << " | " << c_exact << " | " << fmt(fit_s, 1)
                  << (n <= 100 ? (fit_s <= 20 ? "" : " **>20**") : "") << " | " << fmt(draw_s, 2)
                  << (draw_s <= 1 ? "" : " **>1**") << " |\n";
        }
        if (!dmvi_draws.empty() && !nuts_draws.empty()) {
          pair_plot(coordinate_names, dmvi_draws, nuts_draws,
                    dir / (model + "-" + std::to_string(n) + ".png"));
        }
        write_outputs(false);
      }
    }
    write_outputs(true);
    std::fprintf(stderr, "done in %.1f s; wrote %s\n", now_s(start), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repro-dmvi: %s\n", e.what());
    return 1;
  }
  return 0;
}
