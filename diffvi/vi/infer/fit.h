// fit(model, options): one entry point for every inference method. The method is looked up by
// name in the registry (registry.h), so this file knows no method; available_methods() lists
// them. It returns a Posterior (posterior.h).
//
//   vi::Posterior post = vi::fit(model, vi::FitOptions().set_method(name));
//   auto draws = post.sample_sites(4000, gen);   // name -> [4000, *shape]
//
// Variational methods are Guides (guide.h). Each step draws num_particles reparameterised
// samples, evaluates the model (on a minibatch of batch_size when set; the likelihood scaled by
// N/|b|) and takes an nn::AdamW step on the guide's loss, with the learning rate on nn::CosineLR
// and optional nn::clip_grad_norm_.
#pragma once

#include <memory>
#include <vector>

#include "diffvi/tensor/generator.h"
#include "diffvi/vi/infer/fit_options.h"
#include "diffvi/vi/infer/guide.h"
#include "diffvi/vi/infer/posterior.h"
#include "diffvi/vi/infer/registry.h"
#include "diffvi/vi/model/model.h"

namespace diffvi::vi {

// Fits `model` (which must outlive the posterior) with the registered method options.method.
// ValueError for an unknown method (naming the available ones), bad settings, or method options
// of the wrong type or with a bad field.
Posterior fit(const Model& model, const FitOptions& options = {});

// Fits a guide the caller built (its dimension must be the model's) by the optimisation loop;
// options.method and method_options are not used, every unset setting takes FitSettings' generic
// default. The posterior's method() is the guide's type name.
Posterior fit(const Model& model, std::shared_ptr<Guide> guide, const FitOptions& options = {});

// The optimisation loop on its own: initializes and trains `guide` on the model's log density,
// drawing from `gen`, and returns the objective per step.
std::vector<double> optimize(Guide& guide, const Model& model, const FitSettings& settings,
                             Generator& gen);

}  // namespace diffvi::vi
