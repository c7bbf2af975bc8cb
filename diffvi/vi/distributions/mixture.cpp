// MixtureSameFamily.
#include "diffvi/vi/distributions/mixture.h"

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

MixtureSameFamily::MixtureSameFamily(Categorical mixing, DistributionPtr components)
    : mixing_(std::move(mixing)), components_(std::move(components)) {
  const Shape cb = components_->batch_shape();
  if (cb.empty() || cb.back() != mixing_.num_categories()) {
    throw ShapeError("MixtureSameFamily: components' batch shape " + shape_str(cb) +
                     " must end in the number of categories " +
                     std::to_string(mixing_.num_categories()));
  }
}

Shape MixtureSameFamily::batch_shape() const {
  Shape cb = components_->batch_shape();
  cb.pop_back();
  return broadcast_shapes(cb, mixing_.batch_shape(), "MixtureSameFamily");
}

Tensor MixtureSameFamily::log_prob(const Tensor& value) const {
  const int64_t er = static_cast<int64_t>(event_shape().size());
  Tensor x = unsqueeze(value, value.dim() - er);  // a K dim before the event dims
  Tensor lp = components_->log_prob(x);           // [..., K]
  return logsumexp(add(lp, detail::cast_like(mixing_.logits(), lp)), {-1});
}

Tensor MixtureSameFamily::weights_for_event() const {
  Tensor w = mixing_.probs();
  for (size_t i = 0; i < event_shape().size(); ++i) w = unsqueeze(w, -1);
  return w;
}

Tensor MixtureSameFamily::sample(const Shape& sample_shape, Generator& gen) const {
  NoGradGuard no_grad;
  const Shape event = event_shape();
  const int64_t er = static_cast<int64_t>(event.size());
  Tensor draws = components_->sample(sample_shape, gen);  // [S..., B..., K, E...]
  Tensor k = mixing_.sample(sample_shape, gen);           // [S..., B'...]
  Shape idx_shape = draws.shape();
  const int64_t kdim = draws.dim() - er - 1;
  idx_shape[kdim] = 1;
  Shape k_shape(idx_shape.begin(), idx_shape.begin() + kdim);
  Tensor idx = broadcast_to(k, k_shape);
  idx = unsqueeze(idx, -1);
  for (int64_t i = 0; i < er; ++i) idx = unsqueeze(idx, -1);
  idx = contiguous(broadcast_to(idx, idx_shape));
  return squeeze(gather(draws, kdim, idx), kdim);
}

Tensor MixtureSameFamily::mean() const {
  const int64_t kdim = -1 - static_cast<int64_t>(event_shape().size());
  return sum(mul(weights_for_event(), components_->mean()), {kdim});
}

Tensor MixtureSameFamily::variance() const {
  const int64_t kdim = -1 - static_cast<int64_t>(event_shape().size());
  Tensor w = weights_for_event();
  Tensor m = components_->mean();
  Tensor second = sum(mul(w, add(components_->variance(), square(m))), {kdim});
  return sub(second, square(sum(mul(w, m), {kdim})));
}

}  // namespace diffvi::vi
