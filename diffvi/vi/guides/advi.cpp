// ADVI Gaussians.
#include "diffvi/vi/guides/advi.h"

#include <cmath>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/vi/distributions/multivariate_normal.h"
#include "diffvi/vi/distributions/normal.h"

namespace diffvi::vi {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;
}

MeanFieldNormal::MeanFieldNormal(int64_t dim, double init_scale, DType dtype)
    : Guide("MeanFieldNormal", dim, dtype) {
  if (!(init_scale > 0)) throw ValueError("MeanFieldNormal: init_scale must be positive");
  const TensorOptions opt(dtype);
  loc = register_parameter("loc", zeros({dim}, opt));
  log_scale = register_parameter("log_scale", full({dim}, std::log(init_scale), opt));
}

Tensor MeanFieldNormal::scale() const { return exp(log_scale); }

Tensor MeanFieldNormal::rsample(int64_t n, Generator& gen) {
  Tensor eps = randn({n, dim()}, gen, TensorOptions(dtype()));
  return add(loc, mul(exp(log_scale), eps));
}

std::pair<Tensor, Tensor> MeanFieldNormal::rsample_and_log_prob(int64_t n, Generator& gen) {
  Tensor z = rsample(n, gen);
  return {z, log_prob(z)};
}

Tensor MeanFieldNormal::log_prob(const Tensor& z) {
  return sum(Normal(loc, exp(log_scale)).log_prob(z), {-1});
}

Tensor MeanFieldNormal::entropy() { return add(sum(log_scale), 0.5 * dim() * (1 + kLog2Pi)); }

FullRankNormal::FullRankNormal(int64_t dim, double init_scale, DType dtype)
    : Guide("FullRankNormal", dim, dtype) {
  if (!(init_scale > 0)) throw ValueError("FullRankNormal: init_scale must be positive");
  const TensorOptions opt(dtype);
  loc = register_parameter("loc", zeros({dim}, opt));
  log_diag = register_parameter("log_diag", full({dim}, std::log(init_scale), opt));
  off_diag = register_parameter("off_diag", zeros({dim, dim}, opt));
  std::vector<double> mask(dim * dim, 0.0);
  for (int64_t i = 0; i < dim; ++i) {
    for (int64_t j = 0; j < i; ++j) mask[i * dim + j] = 1;
  }
  lower_mask_ = register_buffer("lower_mask", from_vector(mask, {dim, dim}, opt));
}

Tensor FullRankNormal::scale_tril() const {
  // eye * exp(ω) puts exp(ω_j) on the diagonal (row-broadcast of [d] over [d, d]).
  Tensor diag = mul(eye(dim(), TensorOptions(dtype())), exp(log_diag));
  return add(mul(off_diag, lower_mask_), diag);
}

Tensor FullRankNormal::covariance() const {
  NoGradGuard no_grad;
  Tensor L = scale_tril();
  return matmul(L, transpose(L, 0, 1));
}

Tensor FullRankNormal::rsample(int64_t n, Generator& gen) {
  Tensor eps = randn({n, dim()}, gen, TensorOptions(dtype()));
  return add(loc, matmul(eps, transpose(scale_tril(), 0, 1)));
}

std::pair<Tensor, Tensor> FullRankNormal::rsample_and_log_prob(int64_t n, Generator& gen) {
  // log q at its own draw z = μ + L ε is log N(ε; 0, I) - Σ ω: no triangular solve needed.
  Tensor eps = randn({n, dim()}, gen, TensorOptions(dtype()));
  Tensor z = add(loc, matmul(eps, transpose(scale_tril(), 0, 1)));
  Tensor lq = sub(mul(sum(square(eps), {-1}), -0.5), add(sum(log_diag), 0.5 * dim() * kLog2Pi));
  return {z, lq};
}

Tensor FullRankNormal::log_prob(const Tensor& z) {
  ValidationGuard off(false);  // L is valid by construction
  return MultivariateNormal(loc, scale_tril()).log_prob(z);
}

Tensor FullRankNormal::entropy() { return add(sum(log_diag), 0.5 * dim() * (1 + kLog2Pi)); }

}  // namespace diffvi::vi
