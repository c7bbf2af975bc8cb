// Guide: a trainable variational family q(z) over a model's unconstrained space R^d, as an
// nn::Module (its parameters are what fit() optimises). ADVI's Gaussians, the normalising flows
// and later the diffusion posteriors (DMVI) implement it.
//
// fit() minimises loss(), by default the negative ELBO
//   -ELBO = -E_q[log p(z)] - H[q],
// with H[q] in closed form when entropy() has one (ADVI) and -E_q[log q(z)] at the draws
// otherwise (flows). Methods with another bound (DMVI: auxiliary reverse-process variables)
// override loss().
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "diffvi/nn/module.h"
#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::vi {

// log p(z) for z [n, d] -> [n] (the model's log density, possibly on a minibatch).
using LogDensityFn = std::function<Tensor(const Tensor& z)>;

class Guide : public nn::Module {
 public:
  Guide(std::string type_name, int64_t dim, DType dtype);

  int64_t dim() const { return dim_; }
  DType dtype() const { return dtype_; }

  // n reparameterised draws [n, d] and log q at them [n] (differentiable in the parameters).
  virtual std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) = 0;
  // n reparameterised draws [n, d].
  virtual Tensor rsample(int64_t n, Generator& gen) { return rsample_and_log_prob(n, gen).first; }
  // Whether log_prob is available at arbitrary points.
  virtual bool has_log_prob() const { return true; }
  // log q(z) for z [n, d] -> [n].
  virtual Tensor log_prob(const Tensor& z) = 0;
  // Closed-form entropy (a scalar tensor), or an undefined tensor when there is none.
  virtual Tensor entropy() { return Tensor(); }
  // The loss one optimisation step minimises: a Monte-Carlo estimate of -ELBO from n draws.
  virtual Tensor loss(const LogDensityFn& log_p, int64_t n, Generator& gen);
  // Called once by fit() before the first step, with the loss's arguments: a guide that starts
  // from a fitted simpler family does that here (DMVI: its affine map by full-rank ADVI).
  virtual void initialize(const LogDensityFn& log_p, int64_t n, Generator& gen) {
    (void)log_p, (void)n, (void)gen;
  }

 private:
  int64_t dim_;
  DType dtype_;
};

}  // namespace diffvi::vi
