// Eight schools (Rubin 1981; BDA3 §5.5) with any inference method of diffvi::vi:
//   example-eight-schools --method nuts|advi|advi-fullrank|maf|iaf|realnvp [--json PATH]
//                         [--seed N]
// Non-centred model: μ ~ N(0, 5²), τ ~ HalfCauchy(5), η_j ~ N(0, 1), θ_j = μ + τ η_j,
// y_j ~ N(θ_j, σ_j²). Prints and writes {"mu_mean", "mu_sd", "tau_mean", "tau_sd", "seconds",
// ...}. Reference for this exact model (NumPyro NUTS, ~36k effective draws, "Eight Schools in
// NumPyro", riversdark.github.io/stats/eight): μ = 4.37 ± 3.32, τ = 3.61 ± 3.20.
#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::Tensor;

namespace {

// The model, written once: every method below fits this object.
class EightSchools : public vi::Model {
 public:
  EightSchools()
      : y_(diffvi::tensor({28, 8, -3, 7, -1, 1, 18, 12}, diffvi::DType::f64)),
        sigma_(diffvi::tensor({15, 10, 16, 11, 9, 11, 10, 18}, diffvi::DType::f64)) {}

  void body(vi::Trace& t) const override {
    Tensor mu = t.sample("mu", vi::Normal(0, 5));         // [S, 1]
    Tensor tau = t.sample("tau", vi::HalfCauchy(5));      // [S, 1], via exp
    Tensor eta = t.sample("eta", vi::Normal(0, 1), {8});  // [S, 8]
    Tensor theta = t.deterministic("theta", mu + tau * eta);
    t.observe("y", vi::Normal(theta, t.data(sigma_)), t.data(y_));
  }

 private:
  Tensor y_, sigma_;
};

struct Moments {
  double mean = 0, sd = 0;
};

Moments moments(const Tensor& x) {
  std::vector<double> v = x.to_vector<double>();
  double m = 0, s = 0;
  for (double a : v) m += a;
  m /= v.size();
  for (double a : v) s += (a - m) * (a - m);
  return {m, std::sqrt(s / (v.size() - 1))};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Eight schools with diffvi::vi (NUTS, ADVI, normalising flows)"};
  std::string method = "nuts", json_path;
  uint64_t seed = 0;
  int64_t draws = 20000, steps = -1;
  app.add_option("--method", method, "nuts|advi|advi-fullrank|maf|iaf|realnvp")
      ->check(CLI::IsMember({"nuts", "advi", "advi-fullrank", "maf", "iaf", "realnvp"}));
  app.add_option("--json", json_path, "write the summary as JSON to this path");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--draws", draws, "posterior draws for the VI summaries");
  app.add_option("--steps", steps, "optimisation steps for VI (default per method)");
  CLI11_PARSE(app, argc, argv);

  try {
    diffvi::set_num_threads(1);
    EightSchools model;
    vi::FitOptions opt;
    opt.method = method;
    opt.seed = seed;
    if (method == "advi" || method == "advi-fullrank") {
      opt.steps = 4000;
      opt.lr = 2e-2;
      opt.num_particles = 32;
    } else if (method != "nuts") {
      opt.steps = 2000;
      opt.lr = 1e-3;
      opt.num_particles = 32;
      vi::FlowOptions flow;
      flow.hidden = {256, 256};
      flow.num_layers = method == "realnvp" ? 4 : 2;
      opt.set_method_options(flow);
    }
    if (steps > 0) opt.steps = steps;
    vi::Posterior post = vi::fit(model, opt);

    nlohmann::json out;
    out["method"] = method;
    out["seed"] = seed;
    out["seconds"] = post.fit_seconds();
    diffvi::Generator gen(seed + 1);
    std::map<std::string, Tensor> sites;
    if (const vi::NutsResult* r = post.sampler_result<vi::NutsResult>()) {
      sites = model.constrain(post.draws());
      out["chains"] = r->num_chains;
      out["draws"] = r->num_chains * r->num_samples;
      out["divergences"] = r->divergences;
      out["max_r_hat"] = r->max_r_hat();
      out["min_ess"] = r->min_ess();
      out["mean_accept_stat"] = r->mean_accept_stat;
      out["mean_tree_depth"] = r->mean_tree_depth;
      out["gradient_evaluations"] = r->gradient_evaluations;
      out["warmup_seconds"] = r->warmup_seconds;
      out["sampling_seconds"] = r->sampling_seconds;
      out["step_size"] = r->step_size;
    } else {
      sites = post.sample_sites(draws, gen);
      out["draws"] = draws;
      out["steps"] = post.settings().steps;
      out["final_neg_elbo"] = [&] {  // mean of the last 10% of the objective trace
        const auto& obj = post.objective();
        const size_t k = std::max<size_t>(1, obj.size() / 10);
        double s = 0;
        for (size_t i = obj.size() - k; i < obj.size(); ++i) s += obj[i];
        return s / k;
      }();
      out["seconds_per_step"] = post.fit_seconds() / post.settings().steps;
    }
    const Moments mu = moments(sites.at("mu")), tau = moments(sites.at("tau"));
    out["mu_mean"] = mu.mean;
    out["mu_sd"] = mu.sd;
    out["tau_mean"] = tau.mean;
    out["tau_sd"] = tau.sd;
    std::vector<double> theta_mean;
    const Tensor theta = sites.at("theta");
    for (int64_t j = 0; j < 8; ++j) {
      theta_mean.push_back(moments(diffvi::select(theta, 1, j)).mean);
    }
    out["theta_mean"] = theta_mean;
    out["reference"] = {
        {"source", "NumPyro NUTS, ~36k effective draws (riversdark.github.io/stats/eight)"},
        {"mu_mean", 4.37},
        {"mu_sd", 3.32},
        {"tau_mean", 3.61},
        {"tau_sd", 3.20}};
    std::cout << out.dump(2) << std::endl;
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      if (!f) throw diffvi::IOError("cannot write " + json_path);
      f << out.dump(2) << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "example-eight-schools: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
