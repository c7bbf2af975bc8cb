// The fused AdamW update of the CPU backend: one OpenMP team walks the concatenation of every
// parameter's elements, so a step over many small tensors wakes the threads once, not per tensor.
// The arithmetic is in the parameter's own type, as in PyTorch and the CUDA kernel (the
// reference computes in double; the two agree to a few ulps).
#include <algorithm>
#include <cmath>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

// The step's constants in the parameter's type, hoisted out of the element loop.
template <class T>
struct AdamScalars {
  T keep;       // 1 − lr·decay: decoupled decay, applied to the parameter before the Adam step
  T b1, c1;     // m ← b1·m + c1·g
  T b2, c2;     // v ← b2·v + c2·g²
  T step_size;  // lr / (1 − β1^t)
  T inv_root2;  // 1 / sqrt(1 − β2^t)
  T eps;
};

// One slot's elements [begin, end). The loop is plain arithmetic on restrict pointers, so GCC
// vectorises it; target_clones builds it for AVX-512 and AVX2 as well as the baseline and picks
// the widest the processor runs (the library itself is built for baseline x86-64). With
// -fno-math-errno (CMakeLists) the sqrt vectorises; contraction is off, so every clone rounds
// exactly like the baseline and results do not depend on the machine.
template <class T>
inline void adamw_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                       int64_t n, const AdamScalars<T>& c) {
  for (int64_t i = 0; i < n; ++i) {
    const T gv = g[i];
    const T mv = c.b1 * m[i] + c.c1 * gv;
    const T vv = c.b2 * v[i] + c.c2 * (gv * gv);
    const T pv = c.keep * p[i];
    p[i] = pv - c.step_size * mv / (std::sqrt(vv) * c.inv_root2 + c.eps);
    m[i] = mv;
    v[i] = vv;
  }
}

DIFFVI_CPU_CLONES void adamw_f32(float* p, const float* g, float* m, float* v, int64_t n,
                                 const AdamScalars<float>& c) {
  adamw_loop(p, g, m, v, n, c);
}

DIFFVI_CPU_CLONES void adamw_f64(double* p, const double* g, double* m, double* v, int64_t n,
                                 const AdamScalars<double>& c) {
  adamw_loop(p, g, m, v, n, c);
}

template <class T>
AdamScalars<T> scalars_of(const AdamWConfig& config) {
  const double step = static_cast<double>(config.step);
  return {static_cast<T>(1.0 - config.lr * config.weight_decay),
          static_cast<T>(config.beta1),
          static_cast<T>(1.0 - config.beta1),
          static_cast<T>(config.beta2),
          static_cast<T>(1.0 - config.beta2),
          static_cast<T>(config.lr / (1.0 - std::pow(config.beta1, step))),
          static_cast<T>(1.0 / std::sqrt(1.0 - std::pow(config.beta2, step))),
          static_cast<T>(config.eps)};
}

void adamw_range(const AdamWSlot& s, int64_t lo, int64_t hi, const AdamScalars<float>& cf,
                 const AdamScalars<double>& cd) {
  if (s.param.dtype == DType::f32) {
    adamw_f32(s.param.ptr<float>() + lo, s.grad.ptr<float>() + lo, s.exp_avg.ptr<float>() + lo,
              s.exp_avg_sq.ptr<float>() + lo, hi - lo, cf);
  } else {
    adamw_f64(s.param.ptr<double>() + lo, s.grad.ptr<double>() + lo, s.exp_avg.ptr<double>() + lo,
              s.exp_avg_sq.ptr<double>() + lo, hi - lo, cd);
  }
}

}  // namespace

void CpuBackend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  std::vector<int64_t> start(slots.size() + 1, 0);  // prefix sums of slot sizes
  for (size_t i = 0; i < slots.size(); ++i) {
    const AdamWSlot& s = slots[i];
    const DType t = s.param.dtype;
    const bool ok = (t == DType::f32 || t == DType::f64) && s.grad.dtype == t &&
                    s.exp_avg.dtype == t && s.exp_avg_sq.dtype == t && cpu::is_dense(s.param) &&
                    cpu::is_dense(s.grad) && cpu::is_dense(s.exp_avg) &&
                    cpu::is_dense(s.exp_avg_sq) && s.grad.numel() == s.param.numel();
    if (!ok) {
      ReferenceBackend::adamw(slots, config);
      return;
    }
    start[i + 1] = start[i] + s.param.numel();
  }
  const AdamScalars<float> cf = scalars_of<float>(config);
  const AdamScalars<double> cd = scalars_of<double>(config);
  // Memory-bound once vectorised (seven streams per element), so the usual threshold applies.
  cpu::parallel_for(start.back(), [&](int64_t begin, int64_t end) {
    size_t i =
        static_cast<size_t>(std::upper_bound(start.begin(), start.end(), begin) - start.begin()) -
        1;
    for (; i < slots.size() && start[i] < end; ++i) {
      const int64_t lo = std::max(begin, start[i]) - start[i];
      const int64_t hi = std::min(end, start[i + 1]) - start[i];
      if (lo >= hi) continue;
      adamw_range(slots[i], lo, hi, cf, cd);
    }
  });
}

}  // namespace diffvi
