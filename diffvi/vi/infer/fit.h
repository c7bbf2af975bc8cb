// fit(model, options): one entry point for every inference method. It returns a Posterior over
// the model's unconstrained space that can draw samples (constrained per site on request),
// report its log density where one exists, and say what the fit cost.
//
//   vi::FitOptions opt;
//   opt.method = "nuts";  // "advi", "advi-fullrank", "maf", "iaf", "realnvp", "dmvi"
//   vi::Posterior post = vi::fit(model, opt);
//   auto draws = post.sample_sites(4000, gen);   // name -> [4000, *shape]
//
// Variational methods are Guides (guide.h) built by a factory registered under the method's
// name; register_method() adds more (DMVI registers "dmvi"). Each step draws
// num_particles reparameterised samples, evaluates the model (on a minibatch of batch_size when
// set; the likelihood scaled by N/|b|) and takes an Adam step on the guide's loss.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diffvi/vi/guides/flows.h"
#include "diffvi/vi/infer/guide.h"
#include "diffvi/vi/mcmc/nuts.h"
#include "diffvi/vi/methods/dmvi/dmvi.h"
#include "diffvi/vi/model/model.h"

namespace diffvi::vi {

struct FitOptions {
  std::string method = "nuts";
  uint64_t seed = 0;  // seeds every method (NUTS: overrides nuts.seed)

  // --- variational methods ---
  int64_t steps = 2000;
  double lr = 1e-2;
  double weight_decay = 0;
  // Cosine decay of the learning rate to lr · final_lr_fraction over the steps.
  double final_lr_fraction = 0.1;
  int64_t num_particles = 16;  // Monte-Carlo draws per step
  int64_t batch_size = 0;      // minibatch size for the model's plates (0 = full data)
  std::optional<DType> dtype;  // default: f64 for ADVI, f32 for flows
  double init_scale = 0.1;     // ADVI's initial σ
  FlowOptions flow;            // MAF / IAF / RealNVP architecture
  DmviOptions dmvi;            // DMVI network, chain and sampler (dtype: options.dtype wins)
  double clip_grad_norm = 0;   // 0 = no clipping

  // --- NUTS ---
  NutsOptions nuts;

  FitOptions& set_method(std::string m) {
    method = std::move(m);
    return *this;
  }
  FitOptions& set_seed(uint64_t s) {
    seed = s;
    return *this;
  }
  FitOptions& set_steps(int64_t s) {
    steps = s;
    return *this;
  }
  FitOptions& set_lr(double v) {
    lr = v;
    return *this;
  }
  FitOptions& set_num_particles(int64_t v) {
    num_particles = v;
    return *this;
  }
  FitOptions& set_batch_size(int64_t v) {
    batch_size = v;
    return *this;
  }
};

class Posterior {
 public:
  const std::string& method() const { return method_; }
  const Model& model() const { return *model_; }
  int64_t dim() const { return model_->dim(); }

  // n draws [n, d] in unconstrained space (f64). VI: fresh draws from q; NUTS: draws picked
  // uniformly (with replacement) from the chains.
  Tensor sample(int64_t n, Generator& gen) const;
  // n draws mapped to constrained site values and deterministics: name -> [n, *shape].
  std::map<std::string, Tensor> sample_sites(int64_t n, Generator& gen) const;
  // Whether log_prob exists (variational guides with a density).
  bool has_log_prob() const;
  // log q(z) for unconstrained z [n, d] -> [n]; ValueError for samplers.
  Tensor log_prob(const Tensor& z) const;

  // The objective per optimisation step (-ELBO estimates) for VI; empty for NUTS.
  const std::vector<double>& objective() const { return objective_; }
  double fit_seconds() const { return fit_seconds_; }
  // The trained guide (VI) or null.
  const std::shared_ptr<Guide>& guide() const { return guide_; }
  // The sampler's output (NUTS) or null.
  const NutsResult* nuts() const { return nuts_ ? nuts_.get() : nullptr; }
  // Every stored draw [chains · samples, d] (NUTS only).
  Tensor draws() const;

 private:
  friend Posterior fit(const Model& model, const FitOptions& options);
  std::string method_;
  const Model* model_ = nullptr;
  std::shared_ptr<Guide> guide_;
  std::shared_ptr<NutsResult> nuts_;
  std::vector<double> objective_;
  double fit_seconds_ = 0;
};

// Builds a guide for a model of dimension dim.
using GuideFactory =
    std::function<std::shared_ptr<Guide>(int64_t dim, const FitOptions& options, Generator& gen)>;
// Registers a variational method under `name` (replacing any previous one).
void register_method(const std::string& name, GuideFactory factory);
// "nuts" and the registered variational methods.
std::vector<std::string> available_methods();

// Fits `model` (which must outlive the posterior). ValueError for an unknown method, naming the
// available ones.
Posterior fit(const Model& model, const FitOptions& options = {});

}  // namespace diffvi::vi
