// Internals shared by the CUDA backend's .cu files: error checking, the strided indexer that
// stands in for the reference backend's for_each_offset (strided_loop.h), launch helpers and a
// block reduction. Private to the library (a .cuh, never installed).
#pragma once

#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <string>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::cuda {

// Turns a failed CUDA call into a DeviceError naming the call and CUDA's explanation.
void check(cudaError_t status, const char* call);
// After a kernel launch: reports launch failures (bad configuration, no device) by kernel name.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

[[noreturn]] void reject_dtype(const std::string& kernel, DType dtype);
inline void require_f32(const std::string& kernel, DType dtype) {
  if (dtype != DType::f32) reject_dtype(kernel, dtype);
}

// Kernels take shapes and strides by value in a fixed-size struct (no device allocation per
// launch). After coalescing, real tensors rarely need more than 3 dims; 8 is generous.
constexpr int kMaxDims = 8;

// Maps a row-major linear index over `sizes` to the element offset in each of N buffers: the
// device-side equivalent of for_each_offset(shape, f, strides_0, ..., strides_{N-1}).
template <int N>
struct Indexer {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
#pragma unroll
      for (int k = 0; k < N; ++k) out[k] += i * strides[k][d];
    }
  }
  __device__ int64_t offset(int64_t linear) const {  // N == 1
    int64_t out[N];
    offsets(linear, out);
    return out[0];
  }
};

// Builds an Indexer for walking `shape` with the given strides: drops extent-1 dims and merges
// dims that are contiguous in every buffer, so a contiguous tensor becomes one dim. ShapeError if
// more than kMaxDims dims remain.
template <int N>
Indexer<N> make_indexer(const Shape& shape, const std::array<const Strides*, N>& strides) {
  Indexer<N> ix;
  int64_t sizes[64];
  int64_t st[N][64];
  int nd = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = nd > 0;
    for (int k = 0; k < N && merge; ++k) {
      merge = st[k][nd - 1] == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      sizes[nd - 1] *= shape[d];
      for (int k = 0; k < N; ++k) st[k][nd - 1] = (*strides[k])[d];
      continue;
    }
    if (nd == 64) break;
    sizes[nd] = shape[d];
    for (int k = 0; k < N; ++k) st[k][nd] = (*strides[k])[d];
    ++nd;
  }
  if (nd > kMaxDims) {
    throw ShapeError("cuda backend: " + shape_str(shape) + " has more than " +
                     std::to_string(kMaxDims) + " non-mergeable dims");
  }
  ix.ndim = nd;
  for (int d = 0; d < nd; ++d) {
    ix.sizes[d] = sizes[d];
    for (int k = 0; k < N; ++k) ix.strides[k][d] = st[k][d];
  }
  return ix;
}

inline Indexer<1> make_indexer(const Buf& b) { return make_indexer<1>(b.shape, {&b.strides}); }

// Grid for a grid-stride loop over n items: enough blocks to fill any current GPU, capped so
// huge tensors loop instead of launching millions of blocks.
constexpr int kThreads = 256;
inline unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

// Calls f(i) for every i in [0, n) (grid-stride loop).
template <class F>
__global__ void for_each_index_kernel(int64_t n, F f) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    f(i);
  }
}

// Launches f over [0, n) on the default stream; no-op for n == 0.
template <class F>
void for_each_index(int64_t n, F f, const char* kernel) {
  if (n <= 0) return;
  for_each_index_kernel<<<grid_for(n), kThreads>>>(n, f);
  check_launch(kernel);
}

// Block-wide reduction of one value per thread with a binary functor; every thread gets the
// result. blockDim.x must be a multiple of 32 and at most 1024. Uses the 32-slot `scratch`.
template <class T, class Op>
__device__ T block_reduce(T v, Op op, T* scratch) {
  for (int s = 16; s > 0; s >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, s));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  __syncthreads();  // scratch may still be read from a previous reduction
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = scratch[0];
  for (int w = 1; w < warps; ++w) v = op(v, scratch[w]);
  return v;
}

// Threads per block for a per-row kernel over `cols` elements: a multiple of 32 up to 256.
inline unsigned row_threads(int64_t cols) {
  unsigned t = 32;
  while (t < 256 && t < cols) t <<= 1;
  return t;
}

}  // namespace diffvi::cuda
