#include "diffvi/vi/methods/dmvi/register.h"

#include <string>

#include "diffvi/vi/infer/registry.h"

namespace diffvi::vi {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& need, double got) {
  throw ValueError("DmviOptions." + field + " must be " + need + ", got " + std::to_string(got));
}

}  // namespace

FitSettings dmvi_defaults() {
  FitSettings s;
  s.steps = 5000;
  s.lr = 2e-3;
  s.weight_decay = 1e-5;
  s.final_lr_fraction = 0.01;
  s.num_particles = 48;
  return s;
}

void validate(const DmviOptions& o) {
  if (o.hidden <= 0) bad("hidden", "> 0", static_cast<double>(o.hidden));
  if (!(o.dropout >= 0 && o.dropout < 1)) bad("dropout", "in [0, 1)", o.dropout);
  if (o.num_steps < 2) bad("num_steps", ">= 2", static_cast<double>(o.num_steps));
  if (o.order < 1 || o.order > 2) bad("order", "1 or 2", o.order);
  if (!(o.beta0 > 0 && o.beta1 > o.beta0)) bad("beta1", "> beta0 > 0", o.beta1);
  if (!(o.t_min > 0 && o.t_min < 1)) bad("t_min", "in (0, 1)", o.t_min);
  if (o.advi_steps < 0) bad("advi_steps", ">= 0", static_cast<double>(o.advi_steps));
  if (!(o.advi_lr > 0)) bad("advi_lr", "> 0", o.advi_lr);
  if (o.solver_steps <= 0) bad("solver_steps", "> 0", o.solver_steps);
  if (o.solver_order < 1 || o.solver_order > 3) bad("solver_order", "1, 2 or 3", o.solver_order);
}

void register_dmvi() {
  register_method<DmviOptions>(
      "dmvi", dmvi_defaults(), [](const DmviOptions& o) { validate(o); },
      [](int64_t d, const FitSettings& s, const DmviOptions& o, Generator& g) {
        DmviOptions dm = o;
        dm.dtype = s.dtype.value_or(o.dtype);  // FitOptions::dtype wins
        return std::make_shared<DmviGuide>(d, dm, g);
      });
}

}  // namespace diffvi::vi
