// CUDA backend: the fused AdamW update.
// Must match: ReferenceBackend::adamw (reference_optim.cpp). Both apply scalar::adamw_element
// (scalar_math.h) per element; the reference in double, this kernel in float, as the CPU backend.
#include <cmath>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cuda {

void CudaBackend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  const scalar::AdamWStep<float> constants = scalar::adamw_step<float>(config);
  // One launch per parameter tensor; a multi-tensor launch would matter only for many tiny ones.
  for (const AdamWSlot& s : slots) {
    require_f32("adamw", s.param.dtype);
    // The contract promises equal numel only: pair elements in each buffer's row-major order.
    const Indexer<1> ip = make_indexer(s.param), ig = make_indexer(s.grad);
    const Indexer<1> im = make_indexer(s.exp_avg), iv = make_indexer(s.exp_avg_sq);
    float* p = s.param.ptr<float>();
    const float* g = s.grad.ptr<float>();
    float* m = s.exp_avg.ptr<float>();
    float* v = s.exp_avg_sq.ptr<float>();
    for_each_index(
        s.param.numel(),
        [=] __device__(int64_t i) {
          const int64_t op = ip.offset(i), om = im.offset(i), ov = iv.offset(i);
          float pv = p[op], mv = m[om], vv = v[ov];
          scalar::adamw_element<float>(constants, pv, g[ig.offset(i)], mv, vv);
          p[op] = pv;
          m[om] = mv;
          v[ov] = vv;
        },
        "adamw");
  }
}

}  // namespace diffvi::cuda
