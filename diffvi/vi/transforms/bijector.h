// Bijectors: smooth invertible maps from the real line to a constrained set, applied
// elementwise, with the log|det J| that change-of-variables needs. forward maps unconstrained ->
// constrained; log_abs_det_jacobian(x) is log|dy/dx| per element at the unconstrained x.
//   Exp:      y = exp(x)                  (0, ∞)
//   Softplus: y = log(1 + exp(x))         (0, ∞)
//   Sigmoid:  y = 1 / (1 + exp(-x))       (0, 1)
//   Affine:   y = loc + scale x           ℝ (scale != 0)
//   Chain:    y = b_n(... b_1(x))         e.g. Chain{Sigmoid, Affine(a, b - a)} for (a, b)
// biject_to(support) picks the map for a site's support (Stan's choices: exp for positive,
// scaled logistic for intervals).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "diffvi/tensor/tensor.h"
#include "diffvi/vi/distributions/distribution.h"

namespace diffvi::vi {

class Bijector {
 public:
  virtual ~Bijector() = default;
  virtual std::string name() const = 0;
  // Unconstrained -> constrained.
  virtual Tensor forward(const Tensor& x) const = 0;
  // Constrained -> unconstrained.
  virtual Tensor inverse(const Tensor& y) const = 0;
  // log|dy/dx| elementwise at x (x's shape).
  virtual Tensor log_abs_det_jacobian(const Tensor& x) const = 0;
  // True for the identity map (lets callers skip the work).
  virtual bool is_identity() const { return false; }
};

using BijectorPtr = std::shared_ptr<const Bijector>;

class ExpBijector : public Bijector {
 public:
  std::string name() const override { return "Exp"; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& y) const override;
  Tensor log_abs_det_jacobian(const Tensor& x) const override;
};

class SoftplusBijector : public Bijector {
 public:
  std::string name() const override { return "Softplus"; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& y) const override;
  Tensor log_abs_det_jacobian(const Tensor& x) const override;
};

class SigmoidBijector : public Bijector {
 public:
  std::string name() const override { return "Sigmoid"; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& y) const override;
  Tensor log_abs_det_jacobian(const Tensor& x) const override;
};

class AffineBijector : public Bijector {
 public:
  // ValueError when scale is zero.
  AffineBijector(double loc, double scale);
  std::string name() const override { return "Affine"; }
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& y) const override;
  Tensor log_abs_det_jacobian(const Tensor& x) const override;
  bool is_identity() const override { return loc_ == 0 && scale_ == 1; }

 private:
  double loc_, scale_;
};

// Applies parts in order: forward = parts.back()(... parts.front()(x)).
class ChainBijector : public Bijector {
 public:
  explicit ChainBijector(std::vector<BijectorPtr> parts);
  std::string name() const override;
  Tensor forward(const Tensor& x) const override;
  Tensor inverse(const Tensor& y) const override;
  Tensor log_abs_det_jacobian(const Tensor& x) const override;

 private:
  std::vector<BijectorPtr> parts_;
};

// The bijector from ℝ onto `support`: identity (Affine(0, 1)) for real, Exp for positive,
// Sigmoid for unit_interval, Chain{Sigmoid, Affine(a, b - a)} for interval(a, b). ValueError for
// supports no latent site can have (integer).
BijectorPtr biject_to(const Support& support);

}  // namespace diffvi::vi
