#include "diffvi/vi/infer/posterior.h"

#include <algorithm>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

Posterior::Posterior(std::string method, const Model& model, FitSettings settings,
                     std::shared_ptr<Guide> guide, std::vector<double> objective,
                     double fit_seconds)
    : method_(std::move(method)),
      model_(&model),
      settings_(settings),
      guide_(std::move(guide)),
      objective_(std::move(objective)),
      fit_seconds_(fit_seconds) {}

Posterior::Posterior(std::string method, const Model& model, FitSettings settings,
                     std::shared_ptr<const SamplerResult> samples, double fit_seconds)
    : method_(std::move(method)),
      model_(&model),
      settings_(settings),
      samples_(std::move(samples)),
      fit_seconds_(fit_seconds) {}

Tensor Posterior::sample(int64_t n, Generator& gen) const {
  NoGradGuard no_grad;
  if (guide_) return to(guide_->rsample(n, gen), DType::f64);
  const SamplerResult& r = *samples_;
  const int64_t total = r.num_chains * r.num_samples;
  std::vector<double> u = rand({n}, gen, TensorOptions(DType::f64)).to_vector<double>();
  std::vector<double> out(n * r.dim);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = std::min<int64_t>(total - 1, static_cast<int64_t>(u[i] * total));
    std::copy(r.draws.begin() + k * r.dim, r.draws.begin() + (k + 1) * r.dim,
              out.begin() + i * r.dim);
  }
  return from_vector(out, {n, r.dim}, TensorOptions(DType::f64));
}

std::map<std::string, Tensor> Posterior::sample_sites(int64_t n, Generator& gen) const {
  return model_->constrain(sample(n, gen));
}

bool Posterior::has_log_prob() const { return guide_ && guide_->has_log_prob(); }

Tensor Posterior::log_prob(const Tensor& z) const {
  if (!has_log_prob()) {
    throw ValueError("Posterior(" + method_ + "): log_prob is not available for this method");
  }
  return guide_->log_prob(z);
}

Tensor Posterior::draws() const {
  if (!samples_) throw ValueError("Posterior(" + method_ + "): draws() is for samplers");
  return from_vector(samples_->draws, {samples_->num_chains * samples_->num_samples, samples_->dim},
                     TensorOptions(DType::f64));
}

}  // namespace diffvi::vi
