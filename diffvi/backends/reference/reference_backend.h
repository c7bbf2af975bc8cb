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

  DIFFVI_PRIMITIVE_KERNELS(DIFFVI_DECLARE_OVERRIDE)

  // Fused kernels: its own loops, accumulating in double, are the oracle the other backends and
  // the defaults (built from primitives, rounding after every primitive) are judged by. A fused
  // kernel added later may be left to its default (the same maths on the reference primitives).
  void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias, Activation act) override;
  void conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
              const Conv2dParams& p) override;
  void conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                            const Conv2dParams& p) override;
  void conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy,
                               const Conv2dParams& p) override;
  void softmax(const Buf& dst, const Buf& x, bool log) override;
  void softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) override;
  void layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x, const Buf* gamma,
                  const Buf* beta, double eps) override;
  void layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy,
                           const Buf& x, const Buf& mean, const Buf& rstd,
                           const Buf* gamma) override;
  void adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) override;
};

// Each unary op and its derivative evaluated in double, for the CPU-side backends. The one
// definition of "gelu_tanh" etc. is the DIFFVI_HD template in scalar_math.h, which the CUDA
// kernels instantiate in float.
double unary_value(UnaryOp op, double x, double a, double b);
double unary_derivative(UnaryOp op, double x, double a, double b);

}  // namespace diffvi
