// MultivariateNormal(loc, scale_tril): N(loc, L Lᵀ) parameterised by a lower-triangular Cholesky
// factor L [d, d] with positive diagonal; loc [..., d] carries the batch.
#pragma once

#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class MultivariateNormal : public Distribution {
 public:
  // ValueError "MultivariateNormal: scale_tril ..." unless L is [d, d], lower triangular with a
  // positive diagonal, and loc ends in d.
  MultivariateNormal(Param loc, const Tensor& scale_tril);
  // From a covariance matrix (factorised on the host, so no gradient flows to `covariance`);
  // ValueError when it is not symmetric positive definite.
  static MultivariateNormal from_covariance(Param loc, const Tensor& covariance);

  std::string name() const override { return "MultivariateNormal"; }
  Shape batch_shape() const override;
  Shape event_shape() const override { return {dim()}; }
  Support support() const override { return Support::real_vector(); }
  Tensor log_prob(const Tensor& value) const override;
  bool has_rsample() const override { return true; }
  Tensor rsample(const Shape& sample_shape, Generator& gen) const override;
  Tensor mean() const override;
  Tensor variance() const override;  // the diagonal of L Lᵀ
  Tensor entropy() const override;
  Tensor covariance() const;  // L Lᵀ [d, d]

  int64_t dim() const { return scale_tril_.size(-1); }
  const Tensor& loc() const { return loc_; }
  const Tensor& scale_tril() const { return scale_tril_; }

 private:
  Tensor loc_, scale_tril_;
};

// Solves L y = b for each row b of `b` [..., d] with L [d, d] lower triangular; differentiable in
// both L and b (first derivatives). CPU, f32/f64.
Tensor solve_lower_triangular(const Tensor& L, const Tensor& b);
// The diagonal of a square matrix [d, d] -> [d] (differentiable).
Tensor diagonal(const Tensor& m);
// Cholesky factor of a symmetric positive-definite matrix on the host (no gradient).
Tensor cholesky(const Tensor& a);

}  // namespace diffvi::vi
