// Categorical.
#include "diffvi/vi/distributions/categorical.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

Categorical Categorical::from_probs(const Tensor& probs) {
  if (probs.dim() < 1)
    throw ShapeError("Categorical: probs must have a category dim, got " + describe(probs));
  if (validation_enabled()) {
    NoGradGuard no_grad;
    std::vector<double> p = probs.to_vector<double>();
    const int64_t k = probs.size(-1);
    for (size_t row = 0; row * k < p.size(); ++row) {
      double total = 0;
      for (int64_t j = 0; j < k; ++j) {
        const double v = p[row * k + j];
        if (!(v >= 0)) {
          std::ostringstream os;
          os << "Categorical: probs must be non-negative, got " << v;
          throw ValueError(os.str());
        }
        total += v;
      }
      if (std::abs(total - 1) > 1e-6) {
        std::ostringstream os;
        os << "Categorical: probs must sum to 1 over the last dim, row " << row << " sums to "
           << total;
        throw ValueError(os.str());
      }
    }
  }
  return Categorical(log_softmax(log(probs), -1));
}

Categorical Categorical::from_logits(const Tensor& logits) {
  if (logits.dim() < 1)
    throw ShapeError("Categorical: logits must have a category dim, got " + describe(logits));
  return Categorical(log_softmax(logits, -1));
}

Shape Categorical::batch_shape() const {
  Shape s = logits_.shape();
  s.pop_back();
  return s;
}

Tensor Categorical::probs() const { return exp(logits_); }

Tensor Categorical::log_prob(const Tensor& value) const {
  Tensor idx = value.dtype() == DType::i64 ? value : to(value, DType::i64);
  const Shape batch = broadcast_shapes(idx.shape(), batch_shape(), "Categorical.log_prob");
  Shape full = batch;
  full.push_back(num_categories());
  Tensor lg = broadcast_to(logits_, full);
  Tensor index = contiguous(unsqueeze(broadcast_to(idx, batch), -1));
  return squeeze(gather(lg, -1, index), -1);
}

Tensor Categorical::sample(const Shape& sample_shape, Generator& gen) const {
  NoGradGuard no_grad;
  const Shape batch = batch_shape();
  const int64_t k = num_categories();
  const std::vector<double> p = exp(logits_).to_vector<double>();
  const int64_t n_batch = numel(batch), n_sample = numel(sample_shape);
  const std::vector<double> u =
      rand({n_sample * n_batch}, gen, TensorOptions(DType::f64)).to_vector<double>();
  std::vector<int64_t> out(u.size());
  for (int64_t s = 0; s < n_sample; ++s) {
    for (int64_t b = 0; b < n_batch; ++b) {
      const double r = u[s * n_batch + b];
      double c = 0;
      int64_t j = 0;
      for (; j < k - 1; ++j) {
        c += p[b * k + j];
        if (r < c) break;
      }
      out[s * n_batch + b] = j;
    }
  }
  return from_vector(out, detail::concat(sample_shape, batch));
}

Tensor Categorical::entropy() const { return neg(sum(mul(exp(logits_), logits_), {-1})); }

}  // namespace diffvi::vi
