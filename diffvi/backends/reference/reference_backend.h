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

  void copy(const Buf& dst, const Buf& src) override;
  void copy_from_host(void* dst, const void* host_src, size_t bytes) override;
  void copy_to_host(void* host_dst, const void* src, size_t bytes) override;
  void fill(const Buf& dst, double value) override;
  void random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
              uint64_t offset) override;
  void arange(const Buf& dst, double start, double step) override;

  void unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) override;
  void unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                      double b) override;
  void binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) override;
  void where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) override;

  void reduce(ReduceOp op, const Buf& dst, const Buf& src) override;
  void cumsum(const Buf& dst, const Buf& src, int64_t axis) override;

  void matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) override;
  void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
              Activation act) override;

  void conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
              const Conv2dParams& p) override;
  void conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                            const Conv2dParams& p) override;
  void conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy,
                               const Conv2dParams& p) override;

  void softmax(const Buf& dst, const Buf& x, bool log) override;
  void softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) override;
  void layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                  const Buf* gamma, const Buf* beta, double eps) override;
  void layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy,
                           const Buf& x, const Buf& mean, const Buf& rstd,
                           const Buf* gamma) override;

  void index_select(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) override;
  void gather(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) override;
  void scatter_add(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) override;

  void adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) override;
};

// Each unary op and its derivative evaluated in double, for the CPU-side backends. The one
// definition of "gelu_tanh" etc. is the DIFFVI_HD template in scalar_math.h, which the CUDA
// kernels instantiate in float.
double unary_value(UnaryOp op, double x, double a, double b);
double unary_derivative(UnaryOp op, double x, double a, double b);

}  // namespace diffvi
