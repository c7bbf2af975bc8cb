// Vectorised elementwise paths of the CPU backend, tried before the generic loops of
// cpu_elementwise.cpp: oneDNN eltwise primitives for the transcendental activations
// (cpu_eltwise_dnnl.cpp) and xtensor/xsimd expressions for the ops the generic loop would send
// through libm or a per-element switch (cpu_vector_math.cpp). Each returns false when it has no
// fast form for the op, and the caller then runs the generic loop.
#pragma once

#include <cstdint>

#include "diffvi/tensor/backend.h"

namespace diffvi::cpu {

// Below this many elements a oneDNN call (a few hundred ns of dispatch, one JIT compile per new
// size) costs more than the double-precision scalar loop it replaces.
constexpr int64_t kMinDnnlEltwise = 64;

// dst[i] = op(x[i]) over n dense floats via a cached oneDNN primitive (dst may alias x).
bool dnnl_unary_f32(UnaryOp op, float* dst, const float* x, int64_t n, double a, double b);
// dx[i] = dy[i] * op'(x[i]) over n dense floats via a cached oneDNN primitive.
bool dnnl_unary_backward_f32(UnaryOp op, float* dx, const float* x, const float* dy, int64_t n,
                             double a, double b);

// The same through xtensor expressions over xsimd batches (ops oneDNN lacks).
bool simd_unary_f32(UnaryOp op, float* dst, const float* x, int64_t n, double a, double b);
bool simd_unary_backward_f32(UnaryOp op, float* dx, const float* x, const float* dy, int64_t n,
                             double a, double b);

// GELU (erf form) over n dense floats, vectorised in cpu_gelu.cpp (dst may alias x).
void gelu_erf_f32(float* dst, const float* x, int64_t n);
void gelu_erf_backward_f32(float* dx, const float* x, const float* dy, int64_t n);

}  // namespace diffvi::cpu
