// Posterior: what fit() returns. Over the model's unconstrained space it draws samples
// (constrained per site on request), reports its log density where one exists, and says what the
// fit cost. It holds either a trained guide (variational methods) or a sampler's draws.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "diffvi/vi/infer/fit_options.h"
#include "diffvi/vi/infer/guide.h"
#include "diffvi/vi/infer/sampler_result.h"
#include "diffvi/vi/model/model.h"

namespace diffvi::vi {

class Posterior {
 public:
  // A trained guide with its objective per step.
  Posterior(std::string method, const Model& model, FitSettings settings,
            std::shared_ptr<Guide> guide, std::vector<double> objective, double fit_seconds);
  // A sampler's draws.
  Posterior(std::string method, const Model& model, FitSettings settings,
            std::shared_ptr<const SamplerResult> samples, double fit_seconds);

  const std::string& method() const { return method_; }
  const Model& model() const { return *model_; }
  int64_t dim() const { return model_->dim(); }
  // The shared settings the fit ran with (the method's defaults where the caller set none).
  const FitSettings& settings() const { return settings_; }

  // n draws [n, d] in unconstrained space (f64). VI: fresh draws from q; samplers: draws picked
  // uniformly (with replacement) from the chains.
  Tensor sample(int64_t n, Generator& gen) const;
  // n draws mapped to constrained site values and deterministics: name -> [n, *shape].
  std::map<std::string, Tensor> sample_sites(int64_t n, Generator& gen) const;
  // Whether log_prob exists (variational guides with a density).
  bool has_log_prob() const;
  // log q(z) for unconstrained z [n, d] -> [n]; ValueError for samplers.
  Tensor log_prob(const Tensor& z) const;

  // The objective per optimisation step (-ELBO estimates) for VI; empty for samplers.
  const std::vector<double>& objective() const { return objective_; }
  double fit_seconds() const { return fit_seconds_; }
  // The trained guide (VI) or null.
  const std::shared_ptr<Guide>& guide() const { return guide_; }
  // The sampler's output as its own type (sampler_result<MySamplerResult>()), or null when the
  // method is not a sampler or returned another type.
  template <class T>
  const T* sampler_result() const {
    return dynamic_cast<const T*>(samples_.get());
  }
  // Every stored draw [chains · samples, d] (samplers only).
  Tensor draws() const;

 private:
  std::string method_;
  const Model* model_ = nullptr;
  FitSettings settings_;
  std::shared_ptr<Guide> guide_;
  std::shared_ptr<const SamplerResult> samples_;
  std::vector<double> objective_;
  double fit_seconds_ = 0;
};

}  // namespace diffvi::vi
