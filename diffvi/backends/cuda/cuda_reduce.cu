// CUDA backend: reductions over axes (keepdim form) and the prefix sum.
// Must match: ReferenceBackend::reduce and ReferenceBackend::cumsum (reference_reduce.cpp).
// Same rules: sums accumulate in double, max/min propagate NaN (scalar::nan_max / nan_min), an
// infinite or NaN peak is the logsumexp itself, an empty extent gives 0 / -inf.
#include <cmath>
#include <string>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cuda {

namespace {

struct SumOp {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct MaxOp {
  __device__ float operator()(float a, float b) const { return scalar::nan_max(a, b); }
};
struct MinOp {
  __device__ float operator()(float a, float b) const { return scalar::nan_min(a, b); }
};

// One block per output element (grid-stride over outputs); the block's threads stride over the
// reduced extent and combine with block_reduce. `outer` maps an output index to (dst offset, src
// base offset); `inner` maps a reduced index to the src offset relative to that base.
__global__ void reduce_kernel(ReduceOp op, float* out, const float* in, Indexer<2> outer,
                              int64_t n_out, Indexer<1> inner, int64_t n_inner) {
  __shared__ double scratch_d[32];
  __shared__ float scratch_f[32];
  const float inf = INFINITY;
  for (int64_t j = blockIdx.x; j < n_out; j += gridDim.x) {
    int64_t o[2];
    outer.offsets(j, o);
    const float* base = in + o[1];
    float result;
    if (op == ReduceOp::sum) {
      double acc = 0.0;
      for (int64_t k = threadIdx.x; k < n_inner; k += blockDim.x) acc += base[inner.offset(k)];
      result = static_cast<float>(block_reduce(acc, SumOp{}, scratch_d));
    } else if (op == ReduceOp::max || op == ReduceOp::min) {
      const bool is_max = op == ReduceOp::max;
      float acc = is_max ? -inf : inf;
      for (int64_t k = threadIdx.x; k < n_inner; k += blockDim.x) {
        const float v = base[inner.offset(k)];
        acc = is_max ? scalar::nan_max(acc, v) : scalar::nan_min(acc, v);
      }
      result =
          is_max ? block_reduce(acc, MaxOp{}, scratch_f) : block_reduce(acc, MinOp{}, scratch_f);
    } else {  // logsumexp
      float peak = -inf;
      for (int64_t k = threadIdx.x; k < n_inner; k += blockDim.x) {
        peak = scalar::nan_max(peak, base[inner.offset(k)]);
      }
      peak = block_reduce(peak, MaxOp{}, scratch_f);
      double acc = 0.0;
      if (isfinite(peak)) {  // shifting by an infinite peak would give inf - inf
        for (int64_t k = threadIdx.x; k < n_inner; k += blockDim.x) {
          acc += exp(static_cast<double>(base[inner.offset(k)]) - peak);
        }
      }
      acc = block_reduce(acc, SumOp{}, scratch_d);
      result = isfinite(peak) ? static_cast<float>(peak + log(acc)) : peak;
    }
    if (threadIdx.x == 0) out[o[0]] = result;
  }
}

}  // namespace

void CudaBackend::reduce(ReduceOp op, const Buf& dst, const Buf& src) {
  require_f32("reduce", src.dtype);
  if (dst.ndim() != src.ndim()) {
    throw ShapeError("cuda backend: reduce of " + shape_str(src.shape) + " into " +
                     shape_str(dst.shape) + " needs the keepdim form");
  }
  // Split src's dims into kept ones (walked per output) and reduced ones (walked per block).
  Strides src_kept = src.strides, src_reduced = src.strides;
  Shape reduced_shape = src.shape;
  for (int64_t d = 0; d < src.ndim(); ++d) {
    if (dst.shape[d] == 1) {
      src_kept[d] = 0;
    } else {
      reduced_shape[d] = 1;
      src_reduced[d] = 0;
    }
  }
  const int64_t n_out = dst.numel(), n_inner = numel(reduced_shape);
  if (n_out == 0) return;
  const Indexer<2> outer = make_indexer<2>(dst.shape, {&dst.strides, &src_kept});
  const Indexer<1> inner = make_indexer<1>(reduced_shape, {&src_reduced});
  const unsigned blocks = static_cast<unsigned>(n_out < 65535 ? n_out : 65535);
  reduce_kernel<<<blocks, row_threads(n_inner)>>>(op, dst.ptr<float>(), src.ptr<float>(), outer,
                                                  n_out, inner, n_inner);
  check_launch("reduce");
}

void CudaBackend::cumsum(const Buf& dst, const Buf& src, int64_t axis) {
  require_f32("cumsum", src.dtype);
  if (src.ndim() == 0) {  // a scalar is its own prefix sum
    copy(dst, src);
    return;
  }
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = src.shape[ax];
  const int64_t sd = dst.strides[ax], ss = src.strides[ax];
  // One thread per line along `axis`, accumulating in double in order, as the reference does.
  Shape outer_shape = src.shape;
  outer_shape[ax] = 1;
  const Indexer<2> outer = make_indexer<2>(outer_shape, {&dst.strides, &src.strides});
  float* out = dst.ptr<float>();
  const float* in = src.ptr<float>();
  for_each_index(
      numel(outer_shape),
      [=] __device__(int64_t line) {
        int64_t o[2];
        outer.offsets(line, o);
        double acc = 0.0;
        for (int64_t k = 0; k < n; ++k) {
          acc += static_cast<double>(in[o[1] + k * ss]);
          out[o[0] + k * sd] = static_cast<float>(acc);
        }
      },
      "cumsum");
}

}  // namespace diffvi::cuda
