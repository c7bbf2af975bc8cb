#include "dmvi/cli.h"

#include "dmvi/models.h"

namespace diffvi::repro::dmvi {
namespace {

void add_dmvi_overrides(CLI::App& app, DmviOverrides& d) {
  app.add_option("--dmvi-steps", d.steps, "override DMVI's optimisation steps");
  app.add_option("--dmvi-T", d.T, "override DMVI's number of transitions");
  app.add_option("--dmvi-particles", d.particles, "override DMVI's draws per step");
  app.add_option("--dmvi-lr", d.lr, "override DMVI's learning rate");
  app.add_option("--dmvi-dropout", d.dropout, "override DMVI's dropout rate");
  app.add_option("--dmvi-hidden", d.hidden, "override DMVI's network width");
  app.add_flag("--dmvi-no-gains", d.no_gains, "DMVI without the learned gains on x̂");
  app.add_option("--dmvi-order", d.order, "override DMVI's solver-step order (1, 2)");
  app.add_option("--dmvi-advi-steps", d.advi_steps,
                 "override DMVI's full-rank ADVI steps for its affine map");
  app.add_option("--dmvi-t-min", d.t_min, "override DMVI's time of the last noisy state");
  app.add_flag("--dmvi-no-scales", d.no_scales,
               "DMVI without its learned state-dependent noise scales (DmviOptions::learn_scales)");
  app.add_flag("--dmvi-no-stl", d.no_stl,
               "DMVI's plain reparameterised gradient instead of sticking the landing");
}

void add_run_options(CLI::App& app, Options& o) {
  app.add_option("--models", o.models, "models (mean, mixture, hierarchical1..5)")
      ->delimiter(',')
      ->check(CLI::IsMember(model_names()));
  app.add_option("--n", o.ns, "data set sizes")->delimiter(',')->check(at_least_one());
  app.add_option("--seeds", o.seeds, "seeds per model and N")
      ->capture_default_str()
      ->check(at_least_one());
  app.add_option("--methods", o.methods, "methods (nuts first: it is the reference)")
      ->delimiter(',')
      ->check(CLI::IsMember({"nuts", "dmvi", "advi", "nfvi"}));
  app.add_option("--draws", o.draws, "final draws per method")
      ->capture_default_str()
      ->check(at_least_one());
  app.add_flag("--details", o.details, "print per-coordinate means and sds to stderr");
}

}  // namespace

std::optional<int> parse_options(int argc, char** argv, Options& o) {
  CLI::App app{"repro-dmvi: DMVI vs ADVI, NFVI and NUTS on the paper's models"};
  o.common.out = "results/dmvi";
  add_common_flags(app, o.common,
                   {.quick = "hierarchical5 and mean at N = 100, one seed, short training",
                    .seed = "first seed (seed s draws its own truth and data)"});
  add_run_options(app, o);
  add_dmvi_overrides(app, o.dmvi);
  if (auto code = parse_command_line(app, o.common, argc, argv)) return code;
  for (int i = 1; i < argc; ++i) o.command_line += std::string(" ") + argv[i];
  if (o.common.quick) {
    if (o.models.empty()) o.models = {"hierarchical5", "mean"};
    if (app.count("--n") == 0) o.ns = {100};
    if (app.count("--seeds") == 0) o.seeds = 1;
  }
  if (o.models.empty()) o.models = model_names();
  return std::nullopt;
}

}  // namespace diffvi::repro::dmvi
