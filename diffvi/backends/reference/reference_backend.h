// The reference backend: plain loops over strided buffers, f32/f64 (i64 where indices need it).
// Slow on purpose and obviously right: it is the oracle every other backend is tested against.
// The CPU backend derives from it and overrides the kernels it accelerates.
#pragma once

#include "diffvi/tensor/backend.h"

namespace diffvi {

class ReferenceBackend : public Backend {
 public:
  const char* name() const override { return "reference"; }
  DeviceType device_type() const override { return DeviceType::cpu; }
  bool supports(DType) const override { return true; }
  Allocator& allocator() override;

  // Every kernel, fused ones included: its own loops in double are the oracle the defaults
  // (built from primitives, so rounding in the buffer dtype) are judged by.
  DIFFVI_BACKEND_KERNELS(DIFFVI_DECLARE_OVERRIDE)
};

// Each unary op and its derivative evaluated in double, for the CPU-side backends. The one
// definition of "gelu_tanh" etc. is the DIFFVI_HD template in scalar_math.h, which the CUDA
// kernels instantiate in float.
double unary_value(UnaryOp op, double x, double a, double b);
double unary_derivative(UnaryOp op, double x, double a, double b);

}  // namespace diffvi
