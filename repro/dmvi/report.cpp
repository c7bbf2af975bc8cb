#include "dmvi/report.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "common/plot.h"

namespace diffvi::repro::dmvi {
namespace {

using json = nlohmann::json;

// DMVI draws over a 2-D histogram of NUTS draws, for three coordinate pairs.
void pair_plot(const std::vector<std::string>& names, const std::vector<double>& dmvi,
               const std::vector<double>& nuts, const std::filesystem::path& path) {
  const int64_t d = static_cast<int64_t>(names.size());
  std::vector<std::pair<int64_t, int64_t>> pairs{
      {0, 1 % d}, {d / 2, (d / 2 + 1) % d}, {d - 1, (d - 2 + d) % d}};
  Canvas canvas(1260, 460);
  const int grid = 80, shown = 2000;
  int col = 0;
  for (auto [a, b] : pairs) {
    DensityScatter plot;
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
    draw_density_scatter(canvas, {col++ * 420, 0, 420, 460}, plot);
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
// The seeds' average of `f` over runs `v`.
template <class F>
double average(const std::vector<RunResult>& v, F f) {
  double a = 0;
  for (const RunResult& r : v) a += f(r);
  return a / v.size();
}

std::string yes_no(bool b) { return b ? "yes" : "**no**"; }

// The mean model's target: errors vs the exact posterior < 0.05 and every seed's bound below
// the exact log evidence (within 3 MC se) and within 0.5 nats.
bool mean_model_met(const std::vector<RunResult>& dmvi, double mean_err, double sd_err) {
  bool ok = mean_err < 0.05 && sd_err < 0.05;
  for (const RunResult& r : dmvi) {
    const double gap = r.exact_log_evidence - r.bound;
    ok = ok && gap > -3 * r.bound_se && gap < 0.5;
  }
  return ok;
}

}  // namespace

Report::Report(const Options& o, Clock::time_point start)
    : o_(o), start_(start), dir_(o.common.out) {}

void Report::add(const CellResult& cell) {
  std::map<std::string, json> by_method;
  for (const std::string& method : o_.methods) by_method[method] = add_row(cell, method);
  if (by_method.count("dmvi") && by_method.count("nuts")) add_targets(cell, by_method);
  if (!cell.dmvi_draws.empty() && !cell.nuts_draws.empty()) {
    pair_plot(cell.coordinate_names, cell.dmvi_draws, cell.nuts_draws,
              dir_ / (cell.model + "-" + std::to_string(cell.n) + ".png"));
  }
}

Report::json Report::add_row(const CellResult& cell, const std::string& method) {
  const std::vector<RunResult>& v = cell.runs.at(method);
  auto avg = [&](auto f) { return average(v, f); };
  const double mse = avg([](const RunResult& r) { return r.mse; });
  const double mse_sd =
      v.size() > 1
          ? std::sqrt(avg([&](const RunResult& r) { return (r.mse - mse) * (r.mse - mse); }) *
                      v.size() / (v.size() - 1))
          : 0.0;
  json row{{"model", cell.model},
           {"n", cell.n},
           {"method", method},
           {"mse_mean", mse},
           {"mse_sd", mse_sd},
           {"post_mean_err", avg([](const RunResult& r) { return r.mean_err; })},
           {"post_sd_err", avg([](const RunResult& r) { return r.sd_err; })},
           {"train_s", avg([](const RunResult& r) { return r.train_s; })},
           {"sample_s", avg([](const RunResult& r) { return r.sample_s; })},
           {"n_params", v.front().n_params}};
  rows_.push_back(row);
  const json paper = paper_figure(cell.model, cell.n, method);
  table_ << "| " << cell.model << " | " << cell.n << " | " << method << " | " << fmt(mse) << " | "
         << fmt(mse_sd) << " | " << (paper.is_null() ? "–" : fmt(paper.get<double>(), 2)) << " | "
         << fmt(row["post_mean_err"].get<double>()) << " | "
         << fmt(row["post_sd_err"].get<double>()) << " | " << fmt(row["train_s"].get<double>(), 1)
         << " | " << fmt(row["sample_s"].get<double>(), 2) << " | " << v.front().n_params << " |\n";
  if (method == "dmvi") add_bound(cell, v);
  return row;
}

void Report::add_bound(const CellResult& cell, const std::vector<RunResult>& v) {
  auto avg = [&](auto f) { return average(v, f); };
  const double b = avg([](const RunResult& r) { return r.bound; });
  const double se =
      std::sqrt(avg([](const RunResult& r) { return r.bound_se * r.bound_se; }) / v.size());
  json jb{{"model", cell.model},
          {"n", cell.n},
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
  bounds_.push_back(jb);
  bound_md_ << "| " << cell.model << " | " << cell.n << " | " << fmt(b) << " | " << fmt(se) << " | "
            << (exact ? fmt(ev) : "–") << " | " << (exact ? fmt(ev - b) : "–") << " |\n";
  if (!exact) return;
  double worst_gap = 0;
  bool below = true;
  for (const RunResult& r : v) {
    worst_gap = std::max(worst_gap, r.exact_log_evidence - r.bound);
    below = below && r.bound < r.exact_log_evidence + 3 * r.bound_se;
  }
  std::fprintf(stderr, "    exact log p(y) − bound, worst seed: %.3f\n", worst_gap);
  bound_notes_ << cell.model << ", N = " << cell.n << ": every seed's bound below its exact "
               << "log p(y) (within 3 MC se): " << (below ? "yes" : "NO") << "; largest gap "
               << fmt(worst_gap) << " nats.\n\n";
}

void Report::add_targets(const CellResult& cell, const std::map<std::string, json>& by_method) {
  const json& dm_ = by_method.at("dmvi");
  const json& nu = by_method.at("nuts");
  const std::vector<RunResult>& dv = cell.runs.at("dmvi");
  auto get = [&](const char* m, const char* k) {
    return by_method.count(m) ? by_method.at(m)[k].get<double>() : NAN;
  };
  const double me = dm_["post_mean_err"], se = dm_["post_sd_err"];
  const double ratio = dm_["mse_mean"].get<double>() / nu["mse_mean"].get<double>();
  std::string c_nfvi = "–", c_advi = "–", c_mse = "–", c_exact = "–";
  double floor_mean = 0, floor_sd = 0;
  for (const RunResult& r : dv) {
    floor_mean += r.floor_mean / dv.size();
    floor_sd += r.floor_sd / dv.size();
  }
  if (cell.model == "mean") {
    c_exact = yes_no(mean_model_met(dv, me, se));
  } else {
    c_nfvi = yes_no(me <= get("nfvi", "post_mean_err") && se <= get("nfvi", "post_sd_err"));
    const double am = get("advi", "post_mean_err"), as = get("advi", "post_sd_err");
    c_advi = yes_no(me <= 0.5 * am && se <= 0.5 * as);
    // Where every half of ADVI's error that DMVI misses is below what the draws can resolve,
    // say so.
    const bool mean_missed = me > 0.5 * am, sd_missed = se > 0.5 * as;
    if ((mean_missed || sd_missed) && (!mean_missed || 0.5 * am < floor_mean) &&
        (!sd_missed || 0.5 * as < floor_sd)) {
      c_advi += " (½ ADVI < MC floor)";
    }
    c_mse = yes_no(std::abs(ratio - 1) <= 0.1);
  }
  const double fit_s = dm_["train_s"], draw_s = dm_["sample_s"];
  double exact_mse = 0;
  for (const RunResult& r : dv) exact_mse += r.exact_mse / dv.size();
  targets_ << "| " << cell.model << " | " << cell.n << " | " << fmt(me) << " / "
           << fmt(get("nfvi", "post_mean_err")) << " / " << fmt(get("advi", "post_mean_err"))
           << " | " << fmt(se) << " / " << fmt(get("nfvi", "post_sd_err")) << " / "
           << fmt(get("advi", "post_sd_err")) << " | " << fmt(floor_mean) << " / " << fmt(floor_sd)
           << " | " << fmt(dm_["mse_mean"].get<double>()) << " / "
           << fmt(nu["mse_mean"].get<double>()) << " (" << fmt(exact_mse) << "): " << fmt(ratio, 2)
           << "× | " << c_nfvi << " | " << c_advi << " | " << c_mse << " | " << c_exact << " | "
           << fmt(fit_s, 1) << (cell.n <= 100 ? (fit_s <= 20 ? "" : " **>20**") : "") << " | "
           << fmt(draw_s, 2) << (draw_s <= 1 ? "" : " **>1**") << " |\n";
}

void Report::write(bool finished) const {
  std::ofstream(dir_ / "results.json") << json{{"rows", rows_}}.dump(2) << "\n";
  std::ofstream(dir_ / "bounds.json") << json{{"bounds", bounds_}}.dump(2) << "\n";
  std::ofstream(dir_ / "results.md") << markdown(finished);
}

std::string Report::markdown(bool finished) const {
  std::ostringstream md;
  md << "# DMVI reproduction (`repro-dmvi" << o_.command_line << "`)\n\n"
     << (finished ? "" : "**Partial: the run was still going when this was written.**\n\n")
     << "Models " << join(o_.models) << "; N " << join(o_.ns) << "; " << o_.seeds
     << " seed(s) (seed s draws its own truth θ* and data from the prior); " << o_.draws
     << " draws per method. Wall time so far " << fmt(seconds_since(start_), 0) << " s.\n\n"
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
     << table_.str() << "\n## Targets (issue 6)\n\n"
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
     << targets_.str() << "\n## DMVI bound on log p(y)\n\n"
     << "| model | N | bound (mean over seeds) | ± MC se | exact log p(y) | gap |\n"
        "|---|---|---|---|---|---|\n"
     << bound_md_.str() << "\n"
     << bound_notes_.str() << paper_notes();
  return md.str();
}

}  // namespace diffvi::repro::dmvi
