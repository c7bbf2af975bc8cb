// The defaults of the fused kernels (linear, softmax, layer norm, AdamW), each written with the
// primitives of the backend it runs on, so a backend that implements only the primitives runs
// every op, on its own device. They trade speed (several passes and temporaries) for having one
// obvious form; a backend overrides the ones it accelerates, and tests/backends checks both
// against the reference backend's own loops. Convolution: conv_defaults.cpp.
#include <cmath>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/host_views.h"
#include "diffvi/tensor/kernel_scratch.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

using defaults::reshaped;
using defaults::Scratch;
using defaults::view;

namespace {

// A row-wise operand as the 2-D buffer [rows, cols] the kernels describe (host_views.h).
Buf rows_of(const Buf& b) {
  const RowView v = row_view(b);
  return view(b, {v.rows, v.cols}, {v.sr, v.sc});
}
// A per-row vector (mean, rstd, a reduction's result) as [rows, 1], and broadcast along a row.
Buf column(const Buf& b, int64_t rows) { return view(b, {rows, 1}, {1, 1}); }
Buf column_broadcast(const Buf& b, int64_t rows, int64_t cols) {
  return view(b, {rows, cols}, {1, 0});
}
// A per-column vector (gamma, bias, [cols]) broadcast down the rows.
Buf row_broadcast(const Buf& b, int64_t rows, int64_t cols) {
  return view(b, {rows, cols}, {0, b.ndim() == 0 ? 1 : b.strides.back()});
}

}  // namespace

void Backend::linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias, Activation act) {
  const int64_t m = x.shape[0], k = x.shape[1], n = w.shape[0];
  Scratch scratch(*this);
  const Buf x3 = reshaped(x, {1, m, k}), w3 = reshaped(w, {1, n, k});
  if (bias) {
    const Buf prod = scratch.make(dst.dtype, {m, n});
    matmul(reshaped(prod, {1, m, n}), x3, w3, false, true);
    binary(BinaryOp::add, dst, prod, row_broadcast(*bias, m, n));
  } else {
    matmul(reshaped(dst, {1, m, n}), x3, w3, false, true);
  }
  if (act != Activation::none) unary(scalar::activation_op(act), dst, dst, 0.0, 0.0);
}

void Backend::softmax(const Buf& dst, const Buf& x, bool log) {
  const Buf in = rows_of(x), out = rows_of(dst);
  const int64_t rows = in.shape[0], cols = in.shape[1];
  if (rows == 0 || cols == 0) return;
  Scratch scratch(*this);
  // Shifted by the row's max, as the reference: exp stays in range; a NaN makes the row NaN.
  const Buf peak = scratch.make(x.dtype, {rows, 1}), total = scratch.make(x.dtype, {rows, 1});
  const Buf shifted = scratch.make(x.dtype, {rows, cols}), e = scratch.make(x.dtype, {rows, cols});
  reduce(ReduceOp::max, peak, in);
  binary(BinaryOp::sub, shifted, in, column_broadcast(peak, rows, cols));
  unary(UnaryOp::exp, e, shifted, 0.0, 0.0);
  reduce(ReduceOp::sum, total, e);
  if (log) {
    unary(UnaryOp::log, total, total, 0.0, 0.0);
    binary(BinaryOp::sub, out, shifted, column_broadcast(total, rows, cols));
  } else {
    binary(BinaryOp::div, out, e, column_broadcast(total, rows, cols));
  }
}

void Backend::softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) {
  const Buf vy = rows_of(y), vdy = rows_of(dy), vdx = rows_of(dx);
  const int64_t rows = vy.shape[0], cols = vy.shape[1];
  if (rows == 0 || cols == 0) return;
  Scratch scratch(*this);
  const Buf s = scratch.make(y.dtype, {rows, 1});
  const Buf t = scratch.make(y.dtype, {rows, cols}), u = scratch.make(y.dtype, {rows, cols});
  if (log) {
    // dx = dy - exp(y) * sum(dy)
    reduce(ReduceOp::sum, s, vdy);
    unary(UnaryOp::exp, t, vy, 0.0, 0.0);
    binary(BinaryOp::mul, u, t, column_broadcast(s, rows, cols));
    binary(BinaryOp::sub, vdx, vdy, u);
  } else {
    // dx = y * (dy - sum(dy * y))
    binary(BinaryOp::mul, t, vdy, vy);
    reduce(ReduceOp::sum, s, t);
    binary(BinaryOp::sub, u, vdy, column_broadcast(s, rows, cols));
    binary(BinaryOp::mul, vdx, vy, u);
  }
}

void Backend::layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                         const Buf* gamma, const Buf* beta, double eps) {
  const Buf in = rows_of(x), out = rows_of(y);
  const int64_t rows = in.shape[0], cols = in.shape[1];
  if (rows == 0) return;
  Scratch scratch(*this);
  const Buf mu = column(mean, rows), rs = column(rstd, rows);
  const Buf a = scratch.make(x.dtype, {rows, cols}), b = scratch.make(x.dtype, {rows, cols});
  const double inv_cols = 1.0 / static_cast<double>(cols);
  // Two passes (mean, then squared deviations), as the reference: no E[x^2] - E[x]^2.
  reduce(ReduceOp::sum, mu, in);
  unary(UnaryOp::mul_scalar, mu, mu, inv_cols, 0.0);
  binary(BinaryOp::sub, a, in, column_broadcast(mu, rows, cols));
  unary(UnaryOp::square, b, a, 0.0, 0.0);
  reduce(ReduceOp::sum, rs, b);
  unary(UnaryOp::mul_scalar, rs, rs, inv_cols, 0.0);
  unary(UnaryOp::add_scalar, rs, rs, eps, 0.0);
  unary(UnaryOp::rsqrt, rs, rs, 0.0, 0.0);
  const Buf rs_b = column_broadcast(rs, rows, cols);
  if (!gamma && !beta) {
    binary(BinaryOp::mul, out, a, rs_b);
    return;
  }
  binary(BinaryOp::mul, b, a, rs_b);  // xhat
  if (gamma && beta) {
    binary(BinaryOp::mul, a, b, row_broadcast(*gamma, rows, cols));
    binary(BinaryOp::add, out, a, row_broadcast(*beta, rows, cols));
  } else if (gamma) {
    binary(BinaryOp::mul, out, b, row_broadcast(*gamma, rows, cols));
  } else {
    binary(BinaryOp::add, out, b, row_broadcast(*beta, rows, cols));
  }
}

void Backend::layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy,
                                  const Buf& x, const Buf& mean, const Buf& rstd,
                                  const Buf* gamma) {
  const Buf vx = rows_of(x), vdy = rows_of(dy), vdx = rows_of(dx);
  const int64_t rows = vx.shape[0], cols = vx.shape[1];
  const DType dt = x.dtype;
  Scratch scratch(*this);
  const Buf xhat = scratch.make(dt, {rows, cols}), a = scratch.make(dt, {rows, cols});
  const Buf b = scratch.make(dt, {rows, cols});
  const Buf mu_b = column_broadcast(mean, rows, cols), rs_b = column_broadcast(rstd, rows, cols);
  binary(BinaryOp::sub, a, vx, mu_b);
  binary(BinaryOp::mul, xhat, a, rs_b);
  // Parameter gradients: sums over rows (overwritten, not accumulated).
  if (dgamma) {
    binary(BinaryOp::mul, a, vdy, xhat);
    reduce(ReduceOp::sum, view(*dgamma, {1, cols}, {cols, 1}), a);
  }
  if (dbeta) reduce(ReduceOp::sum, view(*dbeta, {1, cols}, {cols, 1}), vdy);
  if (rows == 0 || cols == 0) return;
  // With g = dy * gamma: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), as the reference.
  Buf g = vdy;
  if (gamma) {
    g = scratch.make(dt, {rows, cols});
    binary(BinaryOp::mul, g, vdy, row_broadcast(*gamma, rows, cols));
  }
  const double inv_cols = 1.0 / static_cast<double>(cols);
  const Buf mean_g = scratch.make(dt, {rows, 1}), mean_gx = scratch.make(dt, {rows, 1});
  reduce(ReduceOp::sum, mean_g, g);
  unary(UnaryOp::mul_scalar, mean_g, mean_g, inv_cols, 0.0);
  binary(BinaryOp::mul, a, g, xhat);
  reduce(ReduceOp::sum, mean_gx, a);
  unary(UnaryOp::mul_scalar, mean_gx, mean_gx, inv_cols, 0.0);
  binary(BinaryOp::mul, a, xhat, column_broadcast(mean_gx, rows, cols));
  binary(BinaryOp::sub, b, g, a);
  binary(BinaryOp::sub, a, b, column_broadcast(mean_g, rows, cols));
  binary(BinaryOp::mul, vdx, a, rs_b);
}

void Backend::adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) {
  // The terms of scalar::adamw_element, one primitive each; constants as the reference's.
  const scalar::AdamWStep<double> k = scalar::adamw_step<double>(config);
  for (const AdamWSlot& s : slots) {
    const int64_t n = s.param.numel();
    if (n == 0) continue;
    const Shape flat{n};
    const Buf p = reshaped(s.param, flat), g = reshaped(s.grad, flat);
    const Buf m = reshaped(s.exp_avg, flat), v = reshaped(s.exp_avg_sq, flat);
    Scratch scratch(*this);
    const Buf t = scratch.make(p.dtype, flat), u = scratch.make(p.dtype, flat);
    // m <- b1 m + c1 g
    unary(UnaryOp::mul_scalar, t, m, k.b1, 0.0);
    unary(UnaryOp::mul_scalar, u, g, k.c1, 0.0);
    binary(BinaryOp::add, m, t, u);
    // v <- b2 v + c2 g^2
    unary(UnaryOp::square, t, g, 0.0, 0.0);
    unary(UnaryOp::mul_scalar, t, t, k.c2, 0.0);
    unary(UnaryOp::mul_scalar, u, v, k.b2, 0.0);
    binary(BinaryOp::add, v, u, t);
    // p <- keep p - step_size m / (sqrt(v) inv_root2 + eps)
    unary(UnaryOp::sqrt, t, v, 0.0, 0.0);
    unary(UnaryOp::mul_scalar, t, t, k.inv_root2, 0.0);
    unary(UnaryOp::add_scalar, t, t, k.eps, 0.0);
    unary(UnaryOp::mul_scalar, u, m, k.step_size, 0.0);
    const Buf step = scratch.make(p.dtype, flat);
    binary(BinaryOp::div, step, u, t);
    unary(UnaryOp::mul_scalar, t, p, k.keep, 0.0);
    binary(BinaryOp::sub, p, t, step);
  }
}

}  // namespace diffvi
