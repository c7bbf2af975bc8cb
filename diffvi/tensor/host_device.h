// DIFFVI_HD marks the scalar math that CPU kernels and CUDA kernels share (Philox, unary and
// binary op definitions): `__host__ __device__` when nvcc compiles the file, nothing otherwise,
// so there is exactly one definition of each formula and a CUDA kernel cannot drift from the
// CPU reference it is tested against.
#pragma once

#if defined(__CUDACC__)
#define DIFFVI_HD __host__ __device__
#else
#define DIFFVI_HD
#endif

// DIFFVI_HD_INLINE: DIFFVI_HD, and always inlined. For the small formulas a vectorised CPU
// kernel (built for a wider target with target_clones) calls in its loop: an out-of-line call
// would run the baseline build of the formula, one element at a time.
#if defined(__CUDACC__)
#define DIFFVI_HD_INLINE __host__ __device__ __forceinline__
#else
#define DIFFVI_HD_INLINE [[gnu::always_inline]] inline
#endif
