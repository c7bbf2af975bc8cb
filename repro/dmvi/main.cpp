// repro-dmvi: DMVI against ADVI (mean-field), NFVI (2-layer MAF, MADE [256, 256]) and NUTS on
// the paper's models (REFERENCE.md §4). Each seed draws its own true parameters and data.
//
// Writes DIR/results.json ({"rows": [...]}, one row per model, N and method, averaged over
// seeds), DIR/results.md (our table beside the paper's figures) and DIR/<model>-<n>.png (DMVI
// draws over a NUTS density for a few coordinate pairs).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
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
  int64_t draws = 20000;
};

double now_s(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

vi::FitOptions method_options(const std::string& method, const Settings& s, uint64_t seed) {
  vi::FitOptions o;
  o.seed = seed;
  if (method == "dmvi") {
    o.method = "dmvi";
    o.steps = s.quick ? 1500 : 4000;
    o.lr = 1e-3;
    o.weight_decay = 1e-5;
    o.num_particles = 8;
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
    o.nuts.num_chains = 4;
    o.nuts.num_warmup = s.quick ? 500 : 1000;
    o.nuts.num_samples = s.quick ? 1000 : 5000;
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
  double mse = 0, mean_err = 0, sd_err = 0, train_s = 0, sample_s = 0;
  int64_t n_params = 0;
  std::vector<double> draws;
};

RunResult run_method(const dm::Problem& p, const std::string& method, const Settings& s,
                     uint64_t seed) {
  RunResult r;
  vi::Posterior post = vi::fit(*p.model, method_options(method, s, seed));
  r.train_s = post.fit_seconds();
  if (post.guide()) r.n_params = post.guide()->num_parameters(true);
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
    std::fprintf(stderr, "    dmvi bound %.3f ± %.3f", b.value, b.std_error);
    if (!p.exact_mean.empty()) std::fprintf(stderr, " (exact log p(y) %.3f)", p.exact_log_evidence);
    std::fprintf(stderr, "\n");
  }
  return r;
}

// DMVI draws over a 2-D histogram of NUTS draws, for three coordinate pairs.
void pair_plot(const dm::Problem& p, const std::vector<double>& dmvi,
               const std::vector<double>& nuts, const std::filesystem::path& path) {
  const int64_t d = p.model->dim();
  const auto names = p.model->coordinate_names();
  std::vector<std::pair<int64_t, int64_t>> pairs{{0, 1 % d}, {d / 2, (d / 2 + 1) % d},
                                                 {d - 1, (d - 2 + d) % d}};
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
      const int ix = static_cast<int>((nuts[i * d + a] - plot.x_min) / (plot.x_max - plot.x_min) * grid);
      const int iy = static_cast<int>((nuts[i * d + b] - plot.y_min) / (plot.y_max - plot.y_min) * grid);
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
      {"mean-100", {0.07, 0.11, 0.09}},          {"mean-1000", {0.06, 0.06, 0.07}},
      {"mixture-100", {0.89, 8.59, 0.89}},       {"mixture-1000", {0.77, 0.75, 0.85}},
      {"hierarchical5-100", {0.46, 11.77, 0.62}}, {"hierarchical5-1000", {1.07, 2.54, 3.99}}};
  auto it = t.find(model + "-" + std::to_string(n));
  const int k = method == "dmvi" ? 0 : method == "advi" ? 1 : method == "nfvi" ? 2 : -1;
  if (it == t.end() || k < 0) return nullptr;
  return it->second[k];
}

std::string fmt(double x, int prec = 3) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(prec);
  s << x;
  return s.str();
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
  CLI11_PARSE(app, argc, argv);
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
    const std::vector<std::string> methods{"nuts", "dmvi", "advi", "nfvi"};
    json rows = json::array();
    std::ostringstream md;
    md << "# DMVI reproduction\n\nMSE = mean over draws and coordinates of (θ_s − θ*)² "
          "(unconstrained); errors are RMS over coordinates against "
          "NUTS (exact posterior for `mean`). Mean over " << seeds << " seed(s).\n\n"
       << "| model | N | method | MSE (ours) | MSE sd | MSE (paper) | post mean err | "
          "post sd err | train s | 20k draws s | params |\n|---|---|---|---|---|---|---|---|---|"
          "---|---|\n";
    for (const std::string& model : models) {
      for (int64_t n : ns) {
        std::map<std::string, std::vector<RunResult>> res;
        std::vector<double> dmvi_draws, nuts_draws;
        int64_t d = 0;
        for (int seed = 0; seed < seeds; ++seed) {
          dm::Problem p = dm::make_problem(model, n, seed);
          d = p.model->dim();
          std::vector<double> ref_m, ref_sd;
          for (const std::string& method : methods) {
            std::fprintf(stderr, "[%.0fs] %s N=%lld seed %d: %s\n", now_s(start), model.c_str(),
                         static_cast<long long>(n), seed, method.c_str());
            RunResult r = run_method(p, method, s, seed);
            std::vector<double> m, sd;
            moments(r.draws, d, m, sd);
            if (method == "nuts") {
              ref_m = p.exact_mean.empty() ? m : p.exact_mean;
              ref_sd = p.exact_sd.empty() ? sd : p.exact_sd;
            }
            r.mean_err = rms_diff(m, ref_m);
            r.sd_err = rms_diff(sd, ref_sd);
            if (seed == 0 && method == "dmvi") dmvi_draws = r.draws;
            if (seed == 0 && method == "nuts") nuts_draws = r.draws;
            r.draws.clear();
            res[method].push_back(std::move(r));
          }
        }
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
          }) * v.size() / (v.size() - 1)) : 0.0;
          json row{{"model", model}, {"n", n}, {"method", method}, {"mse_mean", mse},
                   {"mse_sd", mse_sd},
                   {"post_mean_err", avg([](const RunResult& r) { return r.mean_err; })},
                   {"post_sd_err", avg([](const RunResult& r) { return r.sd_err; })},
                   {"train_s", avg([](const RunResult& r) { return r.train_s; })},
                   {"sample_s", avg([](const RunResult& r) { return r.sample_s; })},
                   {"n_params", v.front().n_params}};
          rows.push_back(row);
          const json paper = paper_figure(model, n, method);
          md << "| " << model << " | " << n << " | " << method << " | " << fmt(mse) << " | "
             << fmt(mse_sd) << " | " << (paper.is_null() ? "–" : fmt(paper.get<double>(), 2))
             << " | " << fmt(row["post_mean_err"].get<double>()) << " | "
             << fmt(row["post_sd_err"].get<double>()) << " | " << fmt(row["train_s"].get<double>(), 1)
             << " | " << fmt(row["sample_s"].get<double>(), 2) << " | " << v.front().n_params
             << " |\n";
        }
        pair_plot(dm::make_problem(model, n, 0), dmvi_draws, nuts_draws,
                  dir / (model + "-" + std::to_string(n) + ".png"));
      }
    }
    std::ofstream(dir / "results.json") << json{{"rows", rows}}.dump(2) << "\n";
    std::ofstream(dir / "results.md") << md.str();
    std::fprintf(stderr, "done in %.1f s; wrote %s\n", now_s(start), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repro-dmvi: %s\n", e.what());
    return 1;
  }
  return 0;
}
