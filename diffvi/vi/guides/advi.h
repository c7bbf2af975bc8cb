// ADVI's variational families (Kucukelbir et al. 2017) over the unconstrained space:
// mean-field N(μ, diag(σ²)), σ = exp(ω), and full-rank N(μ, L Lᵀ) with L lower triangular,
// diag(L) = exp(ω). Both have closed-form entropy, so the ELBO is E_q[log p(z)] + H[q].
#pragma once

#include "diffvi/vi/infer/guide.h"

namespace diffvi::vi {

// fit()'s options for "advi" and "advi-fullrank".
struct AdviOptions {
  static constexpr const char* kTypeName = "AdviOptions";
  double init_scale = 0.1;  // the initial σ (mean-field) or diagonal of L (full rank)
};

class MeanFieldNormal : public Guide {
 public:
  // μ = 0, σ = init_scale.
  MeanFieldNormal(int64_t dim, double init_scale = 0.1, DType dtype = DType::f64);
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  Tensor rsample(int64_t n, Generator& gen) override;
  Tensor log_prob(const Tensor& z) override;
  Tensor entropy() override;  // Σ ω + d/2 (1 + log 2π)
  Tensor scale() const;       // σ [d]

  Tensor loc, log_scale;  // parameters [d]
};

class FullRankNormal : public Guide {
 public:
  // μ = 0, L = init_scale · I.
  FullRankNormal(int64_t dim, double init_scale = 0.1, DType dtype = DType::f64);
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  Tensor rsample(int64_t n, Generator& gen) override;
  Tensor log_prob(const Tensor& z) override;
  Tensor entropy() override;  // Σ ω + d/2 (1 + log 2π)
  // The Cholesky factor L [d, d] (differentiable).
  Tensor scale_tril() const;
  // L Lᵀ (no gradient).
  Tensor covariance() const;

  Tensor loc, log_diag, off_diag;  // parameters [d], [d], [d, d] (strictly lower part used)

 private:
  Tensor lower_mask_;  // strictly lower-triangular ones
};

}  // namespace diffvi::vi
