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
