// The CPU backend: oneDNN for matmul/linear and softmax (primitives cached by shape),
// OpenBLAS (OpenMP build) for f64 GEMM, and vectorised OpenMP loops for elementwise work,
// reductions and AdamW. Every kernel takes a fast path for the common layouts (dense, or the
// broadcast patterns the tensor layer produces) and otherwise defers to the reference backend,
// so anything unusual (odd strides, i64, empty extents) is exactly as correct as the oracle.
#pragma once

#include "diffvi/backends/reference/reference_backend.h"

namespace diffvi {

class CpuBackend : public ReferenceBackend {
 public:
  const char* name() const override { return "cpu"; }
  // Sets the OpenMP thread count, which oneDNN and the OpenMP build of OpenBLAS both follow.
  void set_num_threads(int n) override;

  void copy(const Buf& dst, const Buf& src) override;
  void fill(const Buf& dst, double value) override;
  // Dense f32/f64 draws, vectorised and threaded; bit-identical to the reference.
  void random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
              uint64_t offset) override;

  void unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) override;
  void unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                      double b) override;
  void binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) override;
  void where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) override;

  void reduce(ReduceOp op, const Buf& dst, const Buf& src) override;

  void matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) override;
  void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias, Activation act) override;

  // f32 through cached oneDNN convolution primitives; f64 through the reference loops.
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

}  // namespace diffvi
