#include "diffvi/diffusion/process/forward_process.h"

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::diffusion {

Tensor broadcast_time(const Tensor& t, const Tensor& like) {
  if (t.dim() == 0) return t;
  if (t.dim() == 1 && like.dim() >= 1 && t.size(0) == like.size(0)) {
    Shape shape(static_cast<size_t>(like.dim()), 1);
    shape[0] = t.size(0);
    return reshape(t, shape);
  }
  throw ShapeError("broadcast_time: time " + describe(t) + " does not fit " + describe(like) +
                   " (want [] or [batch])");
}

ForwardSample sample_forward(const NoiseSchedule& schedule, const Tensor& x, const Tensor& t,
                             Generator& gen) {
  Tensor tb = broadcast_time(t, x);
  Tensor eps = randn(x.shape(), gen, TensorOptions(x.dtype()).set_device(x.device()));
  Tensor la = schedule.log_alpha(tb);
  Tensor z = exp(la) * x + sqrt(neg(expm1(2.0 * la))) * eps;
  return {z, eps};
}

DiagonalGaussian forward_posterior(const NoiseSchedule& schedule, const Tensor& z_t,
                                   const Tensor& x, const Tensor& s, const Tensor& t) {
  Tensor la_s = schedule.log_alpha(broadcast_time(s, z_t));
  Tensor la_t = schedule.log_alpha(broadcast_time(t, z_t));
  Tensor var_s = neg(expm1(2.0 * la_s));
  Tensor var_t = neg(expm1(2.0 * la_t));
  Tensor var_ts = neg(expm1(2.0 * (la_t - la_s)));  // σ²_{t|s}, no cancellation
  Tensor mean = exp(la_t - la_s) * var_s / var_t * z_t + exp(la_s) * var_ts / var_t * x;
  return {mean, var_ts * var_s / var_t};
}

}  // namespace diffvi::diffusion
