// Reference backend: the fused AdamW update.
#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

void ReferenceBackend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  // The per-element formula is scalar::adamw_element (shared with the CPU and CUDA kernels).
  const scalar::AdamWStep<double> constants = scalar::adamw_step<double>(config);
  for (const AdamWSlot& s : slots) {
    strided::require_floating("adamw", s.param.dtype);
    visit_floating(s.param.dtype, [&](auto t) {
      using T = decltype(t);
      T* p = s.param.ptr<T>();
      const T* g = s.grad.ptr<T>();
      T* m = s.exp_avg.ptr<T>();
      T* v = s.exp_avg_sq.ptr<T>();
      auto update = [&](int64_t op, int64_t og, int64_t om, int64_t ov) {
        double pv = static_cast<double>(p[op]);
        double mv = static_cast<double>(m[om]);
        double vv = static_cast<double>(v[ov]);
        scalar::adamw_element<double>(constants, pv, static_cast<double>(g[og]), mv, vv);
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
