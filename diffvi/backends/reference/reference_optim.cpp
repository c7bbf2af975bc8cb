// Reference backend: the fused AdamW update.
#include <cmath>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"

namespace diffvi {

void ReferenceBackend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  const double lr = config.lr, b1 = config.beta1, b2 = config.beta2, eps = config.eps;
  const double step = static_cast<double>(config.step);
  const double bias1 = 1.0 - std::pow(b1, step);
  const double bias2 = 1.0 - std::pow(b2, step);
  for (const AdamWSlot& s : slots) {
    strided::require_floating("adamw", s.param.dtype);
    visit_floating(s.param.dtype, [&](auto t) {
      using T = decltype(t);
      T* p = s.param.ptr<T>();
      const T* g = s.grad.ptr<T>();
      T* m = s.exp_avg.ptr<T>();
      T* v = s.exp_avg_sq.ptr<T>();
      auto update = [&](int64_t op, int64_t og, int64_t om, int64_t ov) {
        // Decoupled decay acts on the parameter before the Adam step, as in PyTorch.
        double pv = static_cast<double>(p[op]);
        pv -= lr * config.weight_decay * pv;
        const double gv = static_cast<double>(g[og]);
        const double mv = b1 * static_cast<double>(m[om]) + (1.0 - b1) * gv;
        const double vv = b2 * static_cast<double>(v[ov]) + (1.0 - b2) * gv * gv;
        pv -= lr * (mv / bias1) / (std::sqrt(vv / bias2) + eps);
        p[op] = static_cast<T>(pv);
        m[om] = static_cast<T>(mv);
        v[ov] = static_cast<T>(vv);
      };
      const Shape& shape = s.param.shape;
      if (s.grad.shape == shape && s.exp_avg.shape == shape && s.exp_avg_sq.shape == shape) {
        strided::for_each_offset(shape, update, s.param.strides, s.grad.strides, s.exp_avg.strides,
                                 s.exp_avg_sq.strides);
        return;
      }
      // The contract only promises equal numel; pair elements in row-major order.
      const auto op = strided::offsets(s.param), og = strided::offsets(s.grad);
      const auto om = strided::offsets(s.exp_avg), ov = strided::offsets(s.exp_avg_sq);
      for (size_t i = 0; i < op.size(); ++i) update(op[i], og[i], om[i], ov[i]);
    });
  }
}

}  // namespace diffvi
