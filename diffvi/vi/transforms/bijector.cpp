// Bijectors.
#include "diffvi/vi/transforms/bijector.h"

#include <cmath>

#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

Tensor ExpBijector::forward(const Tensor& x) const { return exp(x); }
Tensor ExpBijector::inverse(const Tensor& y) const { return log(y); }
Tensor ExpBijector::log_abs_det_jacobian(const Tensor& x) const { return x; }

Tensor SoftplusBijector::forward(const Tensor& x) const { return softplus(x); }
// x = y + log(1 - exp(-y)), stable for small and large y.
Tensor SoftplusBijector::inverse(const Tensor& y) const { return add(y, log(neg(expm1(neg(y))))); }
// dy/dx = sigmoid(x): log sigmoid(x) = -softplus(-x).
Tensor SoftplusBijector::log_abs_det_jacobian(const Tensor& x) const {
  return neg(softplus(neg(x)));
}

Tensor SigmoidBijector::forward(const Tensor& x) const { return sigmoid(x); }
Tensor SigmoidBijector::inverse(const Tensor& y) const { return sub(log(y), log1p(neg(y))); }
// log σ(x) + log(1 - σ(x)) = -softplus(-x) - softplus(x).
Tensor SigmoidBijector::log_abs_det_jacobian(const Tensor& x) const {
  return neg(add(softplus(neg(x)), softplus(x)));
}

AffineBijector::AffineBijector(double loc, double scale) : loc_(loc), scale_(scale) {
  if (scale == 0 || !std::isfinite(scale) || !std::isfinite(loc)) {
    throw ValueError("Affine bijector: scale must be finite and non-zero and loc finite");
  }
}
Tensor AffineBijector::forward(const Tensor& x) const {
  return loc_ == 0 ? (scale_ == 1 ? x : mul(x, scale_)) : add(mul(x, scale_), loc_);
}
Tensor AffineBijector::inverse(const Tensor& y) const { return div(sub(y, loc_), scale_); }
Tensor AffineBijector::log_abs_det_jacobian(const Tensor& x) const {
  return full_like(x, std::log(std::abs(scale_)));
}

ChainBijector::ChainBijector(std::vector<BijectorPtr> parts) : parts_(std::move(parts)) {
  if (parts_.empty()) throw ValueError("Chain bijector: needs at least one part");
}
std::string ChainBijector::name() const {
  std::string s = "Chain(";
  for (size_t i = 0; i < parts_.size(); ++i) s += (i ? ", " : "") + parts_[i]->name();
  return s + ")";
}
Tensor ChainBijector::forward(const Tensor& x) const {
  Tensor y = x;
  for (const auto& b : parts_) y = b->forward(y);
  return y;
}
Tensor ChainBijector::inverse(const Tensor& y) const {
  Tensor x = y;
  for (auto it = parts_.rbegin(); it != parts_.rend(); ++it) x = (*it)->inverse(x);
  return x;
}
Tensor ChainBijector::log_abs_det_jacobian(const Tensor& x) const {
  Tensor total, cur = x;
  for (const auto& b : parts_) {
    Tensor ld = b->log_abs_det_jacobian(cur);
    total = total.defined() ? add(total, ld) : ld;
    cur = b->forward(cur);
  }
  return total;
}

BijectorPtr biject_to(const Support& support) {
  switch (support.kind) {
    case Support::Kind::real:
    case Support::Kind::real_vector:
      return std::make_shared<AffineBijector>(0.0, 1.0);
    case Support::Kind::positive:
      return std::make_shared<ExpBijector>();
    case Support::Kind::unit_interval:
      return std::make_shared<SigmoidBijector>();
    case Support::Kind::interval:
      if (!(support.upper > support.lower)) {
        throw ValueError("biject_to: empty interval " + support.str());
      }
      return std::make_shared<ChainBijector>(std::vector<BijectorPtr>{
          std::make_shared<SigmoidBijector>(),
          std::make_shared<AffineBijector>(support.lower, support.upper - support.lower)});
    case Support::Kind::integer:
      break;
  }
  throw ValueError("biject_to: no bijector onto support '" + support.str() +
                   "' (discrete latent sites are not supported; marginalise them)");
}

}  // namespace diffvi::vi
