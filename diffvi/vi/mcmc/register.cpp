#include "diffvi/vi/mcmc/register.h"

#include <memory>
#include <string>

#include "diffvi/vi/infer/registry.h"
#include "diffvi/vi/mcmc/nuts.h"

namespace diffvi::vi {

namespace {

void validate_nuts(const NutsOptions& o) {
  auto bad = [](const std::string& field, const std::string& need, double got) {
    throw ValueError("NutsOptions." + field + " must be " + need + ", got " + std::to_string(got));
  };
  if (o.num_chains <= 0) bad("num_chains", "> 0", static_cast<double>(o.num_chains));
  if (o.num_warmup < 0) bad("num_warmup", ">= 0", static_cast<double>(o.num_warmup));
  if (o.num_samples < 4) bad("num_samples", ">= 4", static_cast<double>(o.num_samples));
  if (o.max_tree_depth <= 0) bad("max_tree_depth", "> 0", static_cast<double>(o.max_tree_depth));
  if (!(o.target_accept > 0 && o.target_accept < 1)) {
    bad("target_accept", "in (0, 1)", o.target_accept);
  }
  if (!(o.init_step_size > 0)) bad("init_step_size", "> 0", o.init_step_size);
  if (!(o.init_radius > 0)) bad("init_radius", "> 0", o.init_radius);
}

}  // namespace

void register_mcmc() {
  MethodSpec spec;
  spec.validate = [](const MethodOptions* own) {
    validate_nuts(options_cast<NutsOptions>(own, "nuts"));
  };
  spec.run_sampler = [](const Model& model, const FitSettings& s, const MethodOptions* own) {
    NutsOptions o = options_cast<NutsOptions>(own, "nuts");
    o.seed = s.seed;  // FitOptions::seed seeds every method
    auto f = [&model](const double* z, int64_t n, double* lp, double* g) {
      model.log_density_and_grad(z, n, lp, g);
    };
    return std::shared_ptr<const SamplerResult>(
        std::make_shared<NutsResult>(nuts(f, model.dim(), o)));
  };
  register_method("nuts", std::move(spec));
}

}  // namespace diffvi::vi
