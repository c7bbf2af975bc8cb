// Guide: the default negative-ELBO loss.
#include "diffvi/vi/infer/guide.h"

#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

Guide::Guide(std::string type_name, int64_t dim, DType dtype)
    : nn::Module(std::move(type_name)), dim_(dim), dtype_(dtype) {
  if (dim <= 0) throw ValueError(this->type_name() + ": dimension must be positive");
}

Tensor Guide::loss(const LogDensityFn& log_p, int64_t n, Generator& gen) {
  Tensor h = entropy();
  if (h.defined()) {
    Tensor z = rsample(n, gen);
    return neg(add(mean(log_p(z)), h));  // -(E_q[log p] + H[q])
  }
  auto [z, log_q] = rsample_and_log_prob(n, gen);
  return neg(mean(sub(log_p(z), log_q)));  // -E_q[log p - log q]
}

}  // namespace diffvi::vi
