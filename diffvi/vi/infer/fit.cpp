// fit(): looks the method up in the registry and runs its guide through the optimisation loop,
// or its sampler.
#include "diffvi/vi/infer/fit.h"

#include <chrono>

#include "diffvi/autograd/engine.h"
#include "diffvi/nn/adam.h"
#include "diffvi/nn/clip_grad.h"
#include "diffvi/nn/lr_schedule.h"

namespace diffvi::vi {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void check_settings(const Model& model, const FitSettings& s) {
  if (model.dim() == 0) throw ValueError("fit: the model has no latent sites");
  // 0 is the documented "full data"; a negative size was silently taken as 0 too.
  if (s.batch_size < 0) {
    throw ValueError("fit: batch_size must be >= 0 (0 = full data), got " +
                     std::to_string(s.batch_size));
  }
}

void check_optimizer_settings(const FitSettings& s) {
  if (s.steps <= 0 || s.num_particles <= 0 || !(s.lr > 0)) {
    throw ValueError("fit: need steps > 0, num_particles > 0 and lr > 0");
  }
  if (!(s.weight_decay >= 0) || !(s.clip_grad_norm >= 0)) {
    throw ValueError("fit: need weight_decay >= 0 and clip_grad_norm >= 0");
  }
  if (!(s.final_lr_fraction >= 0 && s.final_lr_fraction <= 1)) {
    throw ValueError("fit: final_lr_fraction must be in [0, 1], got " +
                     std::to_string(s.final_lr_fraction));
  }
}

}  // namespace

std::vector<double> optimize(Guide& guide, const Model& model, const FitSettings& s,
                             Generator& gen) {
  check_optimizer_settings(s);
  nn::AdamOptions adam_options(s.lr);
  adam_options.weight_decay = s.weight_decay;
  // Once: parameters() walks the guide's modules, and clipping needs the list every step.
  const std::vector<Tensor> params = guide.parameters();
  nn::AdamW adam(params, adam_options);
  const nn::CosineLR schedule(s.steps, 0, s.final_lr_fraction);
  EvalOptions eval;
  eval.batch_size = s.batch_size;
  eval.generator = &gen;
  ValidationGuard no_validation(false);
  const LogDensityFn log_p = [&](const Tensor& z) { return model.log_density(z, eval); };
  std::vector<double> objective;
  objective.reserve(s.steps);
  guide.initialize(log_p, s.num_particles, gen);
  for (int64_t step = 0; step < s.steps; ++step) {
    Tensor loss = guide.loss(log_p, s.num_particles, gen);
    objective.push_back(loss.item());
    guide.zero_grad();
    backward(loss);
    if (s.clip_grad_norm > 0) nn::clip_grad_norm_(params, s.clip_grad_norm);
    schedule.apply(adam, step);
    adam.step();
  }
  return objective;
}

Posterior fit(const Model& model, const FitOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const MethodSpec spec = find_method(options.method);
  const std::string method = options.method.empty() ? default_method() : options.method;
  const FitSettings s = resolve(options, spec.defaults);
  check_settings(model, s);
  const MethodOptions* own = options.method_options.get();
  if (spec.validate) spec.validate(own);
  if (spec.run_sampler) {
    auto samples = spec.run_sampler(model, s, own);
    return Posterior(method, model, s, std::move(samples), seconds_since(start));
  }
  Generator gen(s.seed);
  std::shared_ptr<Guide> guide = spec.make_guide(model.dim(), s, own, gen);
  std::vector<double> objective = optimize(*guide, model, s, gen);
  return Posterior(method, model, s, std::move(guide), std::move(objective), seconds_since(start));
}

Posterior fit(const Model& model, std::shared_ptr<Guide> guide, const FitOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (!guide) throw ValueError("fit: the guide is null");
  const FitSettings s = resolve(options, FitSettings{});
  check_settings(model, s);
  if (guide->dim() != model.dim()) {
    throw ValueError("fit: the guide is over R^" + std::to_string(guide->dim()) +
                     " but the model has " + std::to_string(model.dim()) + " dimensions");
  }
  Generator gen(s.seed);
  std::vector<double> objective = optimize(*guide, model, s, gen);
  const std::string method = guide->type_name();
  return Posterior(method, model, s, std::move(guide), std::move(objective), seconds_since(start));
}

}  // namespace diffvi::vi
