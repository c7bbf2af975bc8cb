#include "diffvi/nn/embedding.h"

#include <cmath>
#include <sstream>

#include "diffvi/autograd/ops.h"

namespace diffvi::nn {

SinusoidalTimeEmbedding::SinusoidalTimeEmbedding(int64_t dim, double max_period)
    : Module("SinusoidalTimeEmbedding"), dim_(dim), max_period_(max_period) {
  if (dim <= 0)
    throw ValueError("SinusoidalTimeEmbedding: dim must be > 0, got " + std::to_string(dim));
  if (!(max_period > 0)) throw ValueError("SinusoidalTimeEmbedding: max_period must be > 0");
}

Tensor SinusoidalTimeEmbedding::forward(const Tensor& t) {
  Tensor tt = t;
  if (tt.dim() == 0) tt = reshape(tt, {1});
  if (tt.dim() == 2 && tt.size(1) == 1) tt = reshape(tt, {tt.size(0)});
  if (tt.dim() != 1) {
    throw ShapeError("sinusoidal_time_embedding: t must be [B], [B, 1] or a scalar, got " +
                     describe(t));
  }
  const int64_t half = dim_ / 2;
  const TensorOptions opts = TensorOptions(tt.dtype()).set_device(tt.device());
  std::vector<double> f(half);
  for (int64_t k = 0; k < half; ++k) {
    f[k] = std::exp(-std::log(max_period_) * static_cast<double>(k) / static_cast<double>(half));
  }
  const Tensor freqs = from_vector(f, {1, half}, opts);
  const Tensor args = mul(unsqueeze(tt, 1), freqs);  // [B, half]
  std::vector<Tensor> parts = {cos(args), sin(args)};
  if (dim_ % 2 == 1) parts.push_back(zeros({tt.size(0), 1}, opts));
  return cat(parts, 1);
}

std::string SinusoidalTimeEmbedding::extra_repr() const {
  std::ostringstream os;
  os << "dim=" << dim_ << ", max_period=" << max_period_;
  return os.str();
}

FourierFeatures::FourierFeatures(int64_t in_features, int64_t num_frequencies, double scale,
                                 Generator& gen, bool learnable)
    : Module("FourierFeatures"),
      in_(in_features),
      frequencies_(num_frequencies),
      scale_(scale),
      learnable_(learnable) {
  if (in_features <= 0 || num_frequencies <= 0) {
    throw ValueError("FourierFeatures: in_features and num_frequencies must be > 0");
  }
  Tensor b = normal({num_frequencies, in_features}, 0.0, scale, gen);
  weight = learnable ? register_parameter("weight", b) : register_buffer("weight", b);
}

Tensor FourierFeatures::forward(const Tensor& x) {
  const Tensor proj = mul(linear(x, weight), 2.0 * M_PI);
  return cat({cos(proj), sin(proj)}, -1);
}

std::string FourierFeatures::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_ << ", num_frequencies=" << frequencies_ << ", scale=" << scale_
     << ", learnable=" << (learnable_ ? "true" : "false");
  return os.str();
}

}  // namespace diffvi::nn
