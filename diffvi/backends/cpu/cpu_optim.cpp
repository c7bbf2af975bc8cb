// The fused AdamW update of the CPU backend: one OpenMP team walks the concatenation of every
// parameter's elements, so a step over many small tensors wakes the threads once, not per tensor.
// The per-element formula is scalar::adamw_element, in the parameter's own type, as in PyTorch
// and the CUDA kernel (the reference computes it in double; the two agree to a few ulps).
#include <algorithm>
#include <cmath>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {
namespace {

using scalar::AdamWStep;

// One slot's elements [begin, end). The loop is plain arithmetic on restrict pointers, so GCC
// vectorises it; target_clones builds it for AVX-512 and AVX2 as well as the baseline and picks
// the widest the processor runs (the library itself is built for baseline x86-64). With
// -fno-math-errno (CMakeLists) the sqrt vectorises; contraction is off, so every clone rounds
// exactly like the baseline and results do not depend on the machine.
template <class T>
inline void adamw_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v,
                       int64_t n, const AdamWStep<T>& c) {
  for (int64_t i = 0; i < n; ++i) scalar::adamw_element(c, p[i], g[i], m[i], v[i]);
}

DIFFVI_CPU_CLONES void adamw_f32(float* p, const float* g, float* m, float* v, int64_t n,
                                 const AdamWStep<float>& c) {
  adamw_loop(p, g, m, v, n, c);
}

DIFFVI_CPU_CLONES void adamw_f64(double* p, const double* g, double* m, double* v, int64_t n,
                                 const AdamWStep<double>& c) {
  adamw_loop(p, g, m, v, n, c);
}

void adamw_range(const AdamWSlot& s, int64_t lo, int64_t hi, const AdamWStep<float>& cf,
                 const AdamWStep<double>& cd) {
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
  const AdamWStep<float> cf = scalar::adamw_step<float>(config);
  const AdamWStep<double> cd = scalar::adamw_step<double>(config);
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
