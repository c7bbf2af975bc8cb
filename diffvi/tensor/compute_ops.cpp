// Elementwise, reduction, linear-algebra and normalisation ops of the tensor layer (ops.h).
#include <algorithm>
#include <limits>

#include "diffvi/tensor/ops.h"

namespace diffvi::raw {
namespace {

Backend& backend_of(const Tensor& t) { return backend_for(t.device().type); }

void check_floating(const Tensor& x, const char* op) {
  if (!is_floating(x.dtype())) {
    throw DTypeError(std::string(op) + ": expected a floating tensor, got " + describe(x));
  }
  // Checked here, before any output is allocated, so the message names the op and the input
  // (empty() would otherwise raise a message naming neither).
  Backend& backend = backend_of(x);
  if (!backend.supports(x.dtype())) {
    throw DTypeError(std::string(op) + ": backend '" + backend.name() +
                     "' does not support dtype " + dtype_name(x.dtype()) + " (input " +
                     describe(x) + ")");
  }
}

void check_pair(const Tensor& x, const Tensor& y, const char* op) {
  if (x.dtype() != y.dtype()) {
    throw DTypeError(std::string(op) + ": dtype mismatch, " + describe(x) + " and " + describe(y));
  }
  if (x.device() != y.device()) {
    throw DeviceError(std::string(op) + ": device mismatch, " + describe(x) + " and " +
                      describe(y));
  }
}

Tensor new_like(const Shape& shape, const Tensor& like) {
  return empty(shape, TensorOptions(like.dtype()).set_device(like.device()));
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, double a, double b) {
  check_floating(x, unary_name(op));
  Tensor out = new_like(x.shape(), x);
  if (x.numel() > 0) backend_of(x).unary(op, out.buf(), x.buf(), a, b);
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, double a, double b) {
  check_pair(x, dy, unary_name(op));
  Tensor out = new_like(x.shape(), x);
  Tensor g = expand(dy, x.shape());
  if (x.numel() > 0) backend_of(x).unary_backward(op, out.buf(), x.buf(), g.buf(), a, b);
  return out;
}

Tensor binary(BinaryOp op, const Tensor& x, const Tensor& y) {
  const char* name = binary_name(op);
  check_pair(x, y, name);
  check_floating(x, name);
  const Shape shape = broadcast_shapes(x.shape(), y.shape(), name);
  Tensor out = new_like(shape, x);
  if (out.numel() > 0) {
    backend_of(x).binary(op, out.buf(), expand(x, shape).buf(), expand(y, shape).buf());
  }
  return out;
}

Tensor binary_scalar(BinaryOp op, const Tensor& x, double y) {
  return binary(op, x, full({}, y, TensorOptions(x.dtype()).set_device(x.device())));
}

Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y) {
  check_pair(x, y, "where");
  check_floating(x, "where");
  if (cond.device() != x.device()) {
    throw DeviceError("where: device mismatch, condition " + describe(cond) + " and " +
                      describe(x));
  }
  Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), x.shape(), "where"), y.shape(), "where");
  Tensor c = to(cond, x.dtype());
  Tensor out = new_like(shape, x);
  if (out.numel() > 0) {
    backend_of(x).where(out.buf(), expand(c, shape).buf(), expand(x, shape).buf(),
                        expand(y, shape).buf());
  }
  return out;
}

Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const char* names[] = {"sum", "max", "min", "logsumexp"};
  const char* name = names[static_cast<int>(op)];
  check_floating(x, name);
  const std::vector<int64_t> axes = normalize_dims(dims, x.dim(), name);
  Shape kept = x.shape();
  for (int64_t d : axes) {
    if ((op == ReduceOp::max || op == ReduceOp::min) && kept[d] == 0) {
      throw ValueError(std::string(name) + ": cannot reduce an empty dim " + std::to_string(d) +
                       " of " + describe(x));
    }
    kept[d] = 1;
  }
  Tensor out = new_like(kept, x);
  if (out.numel() > 0) backend_of(x).reduce(op, out.buf(), x.buf());
  if (keepdim) return out;
  Shape squeezed;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (std::find(axes.begin(), axes.end(), d) == axes.end()) squeezed.push_back(kept[d]);
  }
  return view(out, squeezed);
}

Tensor cumsum(const Tensor& x, int64_t dim) {
  check_floating(x, "cumsum");
  dim = normalize_dim(dim, x.dim(), "cumsum");
  Tensor out = new_like(x.shape(), x);
  if (x.numel() > 0) {
    if (x.dim() == 0) {
      backend_of(x).copy(out.buf(), x.buf());
    } else {
      backend_of(x).cumsum(out.buf(), x.buf(), dim);
    }
  }
  return out;
}

Tensor matmul(const Tensor& x_in, const Tensor& w_in) {
  check_pair(x_in, w_in, "matmul");
  check_floating(x_in, "matmul");
  if (x_in.dim() == 0 || w_in.dim() == 0) {
    throw ShapeError("matmul: operands must have at least one dim, got " + describe(x_in) +
                     " and " + describe(w_in));
  }
  const bool x_vec = x_in.dim() == 1, w_vec = w_in.dim() == 1;
  Tensor x = x_vec ? unsqueeze(x_in, 0) : x_in;
  Tensor w = w_vec ? unsqueeze(w_in, -1) : w_in;
  const int64_t m = x.size(-2), k = x.size(-1), k2 = w.size(-2), n = w.size(-1);
  if (k != k2) {
    throw ShapeError("matmul: shape mismatch, " + shape_str(x_in.shape()) + " by " +
                     shape_str(w_in.shape()) + " (inner dims " + std::to_string(k) + " vs " +
                     std::to_string(k2) + ")");
  }
  Shape xb(x.shape().begin(), x.shape().end() - 2), wb(w.shape().begin(), w.shape().end() - 2);
  const Shape batch = broadcast_shapes(xb, wb, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = new_like(out_shape, x);
  const int64_t nb = numel(batch);
  if (out.numel() > 0) {
    Tensor x3, w3;
    if (batch.empty()) {
      x3 = unsqueeze(x, 0);
      w3 = unsqueeze(w, 0);
    } else if (wb.empty()) {
      // Fold x's batch into its rows: one [B*M, K] x [K, N] product.
      x3 = unsqueeze(reshape(x, {nb * m, k}), 0);
      w3 = unsqueeze(w, 0);
    } else {
      Shape xs = batch, ws = batch;
      xs.insert(xs.end(), {m, k});
      ws.insert(ws.end(), {k, n});
      x3 = xb == batch && x.dim() == 3 ? x : reshape(expand(x, xs), {nb, m, k});
      w3 = wb == batch && w.dim() == 3 ? w : reshape(expand(w, ws), {nb, k, n});
    }
    Tensor o3 = view(out, {x3.size(0), x3.size(1), n});
    if (k == 0) {
      fill_(out, 0.0);
    } else {
      backend_of(x).matmul(o3.buf(), x3.buf(), w3.buf(), false, false);
    }
  } else if (k == 0) {
    fill_(out, 0.0);
  }
  if (x_vec) out = squeeze(out, -2);
  if (w_vec) out = squeeze(out, -1);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Activation act) {
  check_pair(x, w, "linear");
  check_floating(x, "linear");
  if (w.dim() != 2 || x.dim() < 1 || x.size(-1) != w.size(1)) {
    throw ShapeError("linear: input " + shape_str(x.shape()) + " does not match weight " +
                     shape_str(w.shape()) + " (expected input [..., " +
                     (w.dim() == 2 ? std::to_string(w.size(1)) : "?") + "] and weight [out, in])");
  }
  const int64_t k = w.size(1), n = w.size(0);
  if (bias.defined()) {
    check_pair(x, bias, "linear");
    if (bias.dim() != 1 || bias.size(0) != n) {
      throw ShapeError("linear: bias " + shape_str(bias.shape()) + " does not match weight " +
                       shape_str(w.shape()) + " (expected [" + std::to_string(n) + "])");
    }
  }
  Shape out_shape = x.shape();
  out_shape.back() = n;
  Tensor out = new_like(out_shape, x);
  if (out.numel() == 0) return out;
  // Rows from the output, not reshape(x, {-1, k}): -1 cannot be inferred when k == 0.
  Tensor x2 = contiguous(reshape(x, {out.numel() / n, k}));
  Tensor w2 = contiguous(w);
  Tensor b2 = bias.defined() ? contiguous(bias) : Tensor();
  Buf bb = b2.defined() ? b2.buf() : Buf{};
  backend_of(x).linear(view(out, {x2.size(0), n}).buf(), x2.buf(), w2.buf(),
                       b2.defined() ? &bb : nullptr, act);
  return out;
}

namespace {
// Moves `dim` last and flattens to [rows, cols] contiguous; returns the permutation used.
Tensor rows_last(const Tensor& x, int64_t dim, std::vector<int64_t>& perm) {
  perm.clear();
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d != dim) perm.push_back(d);
  }
  perm.push_back(dim);
  return contiguous(permute(x, perm));
}
Tensor undo_rows_last(const Tensor& y, const std::vector<int64_t>& perm) {
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return contiguous(permute(y, inverse));
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_floating(x, name);
  if (x.dim() == 0) return squeeze(softmax(unsqueeze(x, 0), 0, log));
  dim = normalize_dim(dim, x.dim(), name);
  std::vector<int64_t> perm;
  Tensor xt = rows_last(x, dim, perm);
  Tensor out = new_like(xt.shape(), x);
  const int64_t cols = x.size(dim), rows = cols ? x.numel() / cols : 0;
  if (x.numel() > 0) {
    backend_of(x).softmax(view(out, {rows, cols}).buf(), view(xt, {rows, cols}).buf(), log);
  }
  return undo_rows_last(out, perm);
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim, bool log) {
  check_pair(y, dy, "softmax_backward");
  if (y.dim() == 0) {  // as in the forward: a rank-0 input is a one-element row
    return squeeze(softmax_backward(unsqueeze(y, 0), unsqueeze(expand(dy, {}), 0), 0, log));
  }
  dim = normalize_dim(dim, y.dim(), "softmax_backward");
  std::vector<int64_t> perm;
  Tensor yt = rows_last(y, dim, perm);
  Tensor gt = rows_last(expand(dy, y.shape()), dim, perm);
  Tensor out = new_like(yt.shape(), y);
  const int64_t cols = y.size(dim), rows = cols ? y.numel() / cols : 0;
  if (y.numel() > 0) {
    backend_of(y).softmax_backward(view(out, {rows, cols}).buf(), view(yt, {rows, cols}).buf(),
                                   view(gt, {rows, cols}).buf(), log);
  }
  return undo_rows_last(out, perm);
}

namespace {
void check_norm_param(const Tensor& p, const Tensor& x, const Shape& normalized, const char* what) {
  if (!p.defined()) return;
  check_pair(x, p, "layer_norm");
  if (p.shape() != normalized) {
    throw ShapeError(std::string("layer_norm: ") + what + " " + shape_str(p.shape()) +
                     " does not match normalized shape " + shape_str(normalized) + " of input " +
                     shape_str(x.shape()));
  }
}
}  // namespace

LayerNormOut layer_norm(const Tensor& x, int64_t normalized_ndim, const Tensor& gamma,
                        const Tensor& beta, double eps) {
  check_floating(x, "layer_norm");
  if (normalized_ndim < 1 || normalized_ndim > x.dim()) {
    throw ShapeError("layer_norm: cannot normalise the last " + std::to_string(normalized_ndim) +
                     " dims of " + describe(x));
  }
  const Shape normalized(x.shape().end() - normalized_ndim, x.shape().end());
  check_norm_param(gamma, x, normalized, "weight");
  check_norm_param(beta, x, normalized, "bias");
  const int64_t cols = numel(normalized), rows = cols ? x.numel() / cols : 0;
  Tensor xc = contiguous(x);
  LayerNormOut out{new_like(x.shape(), x), new_like({rows}, x), new_like({rows}, x)};
  if (x.numel() == 0) return out;
  Tensor g = gamma.defined() ? view(contiguous(gamma), {cols}) : Tensor();
  Tensor b = beta.defined() ? view(contiguous(beta), {cols}) : Tensor();
  Buf gb = g.defined() ? g.buf() : Buf{}, bb = b.defined() ? b.buf() : Buf{};
  backend_of(x).layer_norm(view(out.y, {rows, cols}).buf(), out.mean.buf(), out.rstd.buf(),
                           view(xc, {rows, cols}).buf(), g.defined() ? &gb : nullptr,
                           b.defined() ? &bb : nullptr, eps);
  return out;
}

LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                   const Tensor& rstd, int64_t normalized_ndim, const Tensor& gamma,
                                   bool want_gamma, bool want_beta) {
  const Shape normalized(x.shape().end() - normalized_ndim, x.shape().end());
  const int64_t cols = numel(normalized), rows = cols ? x.numel() / cols : 0;
  LayerNormGrads g{new_like(x.shape(), x), Tensor(), Tensor()};
  if (want_gamma) g.dgamma = new_like(normalized, x);
  if (want_beta) g.dbeta = new_like(normalized, x);
  if (x.numel() == 0) {
    if (want_gamma) fill_(g.dgamma, 0);
    if (want_beta) fill_(g.dbeta, 0);
    return g;
  }
  Tensor dyc = contiguous(expand(dy, x.shape())), xc = contiguous(x);
  Tensor gm = gamma.defined() ? view(contiguous(gamma), {cols}) : Tensor();
  Buf dgb = want_gamma ? view(g.dgamma, {cols}).buf() : Buf{};
  Buf dbb = want_beta ? view(g.dbeta, {cols}).buf() : Buf{};
  Buf gb = gm.defined() ? gm.buf() : Buf{};
  backend_of(x).layer_norm_backward(view(g.dx, {rows, cols}).buf(), want_gamma ? &dgb : nullptr,
                                    want_beta ? &dbb : nullptr, view(dyc, {rows, cols}).buf(),
                                    view(xc, {rows, cols}).buf(), mean.buf(), rstd.buf(),
                                    gm.defined() ? &gb : nullptr);
  return g;
}

void adamw_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
            const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
            const AdamWConfig& config) {
  const size_t n = params.size();
  if (grads.size() != n || exp_avg.size() != n || exp_avg_sq.size() != n) {
    throw ValueError("adamw: parameter, gradient and state lists differ in length");
  }
  std::vector<AdamWSlot> slots;
  std::vector<Tensor> grads_c;  // keeps contiguous copies alive during the kernel
  slots.reserve(n);
  grads_c.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    for (const Tensor* t : {&grads[i], &exp_avg[i], &exp_avg_sq[i]}) {
      check_pair(params[i], *t, "adamw");
      if (t->shape() != params[i].shape()) {
        throw ShapeError("adamw: parameter " + std::to_string(i) + " " + describe(params[i]) +
                         " does not match its gradient/state " + describe(*t));
      }
    }
    if (!params[i].is_contiguous() || !exp_avg[i].is_contiguous() ||
        !exp_avg_sq[i].is_contiguous()) {
      throw ValueError("adamw: parameters and optimizer state must be contiguous");
    }
    grads_c.push_back(contiguous(grads[i]));
    slots.push_back({params[i].buf(), grads_c.back().buf(), exp_avg[i].buf(), exp_avg_sq[i].buf()});
  }
  if (n > 0) backend_of(params[0]).adamw(slots, config);
}

}  // namespace diffvi::raw
