// The fused AdamW update of the CPU backend: one OpenMP team walks the concatenation of every
// parameter's elements, so a step over many small tensors wakes the threads once, not per tensor.
// The arithmetic is the reference's, in double, so both backends agree bit for bit.
#include <algorithm>
#include <cmath>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

struct AdamScalars {
  double lr, b1, b2, eps, decay, bias1, bias2;
};

template <class T>
void adamw_range(const AdamWSlot& s, int64_t begin, int64_t end, const AdamScalars& c) {
  T* p = s.param.ptr<T>();
  const T* g = s.grad.ptr<T>();
  T* m = s.exp_avg.ptr<T>();
  T* v = s.exp_avg_sq.ptr<T>();
  for (int64_t i = begin; i < end; ++i) {
    // Decoupled decay acts on the parameter before the Adam step, as in PyTorch.
    double pv = static_cast<double>(p[i]);
    pv -= c.lr * c.decay * pv;
    const double gv = static_cast<double>(g[i]);
    const double mv = c.b1 * static_cast<double>(m[i]) + (1.0 - c.b1) * gv;
    const double vv = c.b2 * static_cast<double>(v[i]) + (1.0 - c.b2) * gv * gv;
    pv -= c.lr * (mv / c.bias1) / (std::sqrt(vv / c.bias2) + c.eps);
    p[i] = static_cast<T>(pv);
    m[i] = static_cast<T>(mv);
    v[i] = static_cast<T>(vv);
  }
}

}  // namespace

void CpuBackend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  std::vector<int64_t> start(slots.size() + 1, 0);  // prefix sums of slot sizes
  for (size_t i = 0; i < slots.size(); ++i) {
    const AdamWSlot& s = slots[i];
    const DType t = s.param.dtype;
    const bool ok = is_floating(t) && s.grad.dtype == t && s.exp_avg.dtype == t &&
                    s.exp_avg_sq.dtype == t && cpu::is_dense(s.param) && cpu::is_dense(s.grad) &&
                    cpu::is_dense(s.exp_avg) && cpu::is_dense(s.exp_avg_sq) &&
                    s.grad.numel() == s.param.numel();
    if (!ok) {
      ReferenceBackend::adamw(slots, config);
      return;
    }
    start[i + 1] = start[i] + s.param.numel();
  }
  const double step = static_cast<double>(config.step);
  const AdamScalars c{config.lr,
                      config.beta1,
                      config.beta2,
                      config.eps,
                      config.weight_decay,
                      1.0 - std::pow(config.beta1, step),
                      1.0 - std::pow(config.beta2, step)};
  // The per-element work is a sqrt and a divide, so the team pays off sooner than for a copy.
  cpu::parallel_for(
      start.back(),
      [&](int64_t begin, int64_t end) {
        size_t i = static_cast<size_t>(std::upper_bound(start.begin(), start.end(), begin) -
                                       start.begin()) -
                   1;
        for (; i < slots.size() && start[i] < end; ++i) {
          const int64_t lo = std::max(begin, start[i]) - start[i];
          const int64_t hi = std::min(end, start[i + 1]) - start[i];
          if (lo >= hi) continue;
          visit_floating(slots[i].param.dtype,
                         [&](auto t) { adamw_range<decltype(t)>(slots[i], lo, hi, c); });
        }
      },
      cpu::kParallelThresholdHeavy);
}

}  // namespace diffvi
