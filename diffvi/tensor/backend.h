// The kernel contract. A backend implements these kernels on raw strided buffers; the tensor
// layer validates arguments, allocates outputs, broadcasts (by zero strides) and then calls
// exactly one kernel. Kernels may therefore assume: shapes agree as documented, dtypes agree
// unless stated, `dst` never aliases an input unless stated, and dst is contiguous unless stated.
// Inputs may have any strides (including 0 and negative-free views with offsets).
//
// The contract is split in two lists: primitives, which every backend implements, and fused
// kernels, which a backend may override and which otherwise run as a default built from its own
// primitives. docs/backends.md says how to add an op and how to add a backend.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "diffvi/tensor/device.h"
#include "diffvi/tensor/dtype.h"
#include "diffvi/tensor/shape.h"
#include "diffvi/tensor/storage.h"

namespace diffvi {

// A strided view of backend memory handed to a kernel. `data` already includes the offset.
struct Buf {
  void* data = nullptr;
  DType dtype = DType::f32;
  Shape shape;
  Strides strides;

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const { return diffvi::numel(shape); }
  bool is_contiguous() const;
  template <class T>
  T* ptr() const {
    return static_cast<T*>(data);
  }
};

// One list per kind. Each X(enumerator, printed name) line makes the enumerator, its name (for
// errors and the profiler) and its place in the count, so none of them is kept in step by hand.
// Append new ops at the end: checkpoints never store these values, but the tests walk every op
// by count.
// clang-format off
#define DIFFVI_UNARY_OPS(X)                                                          \
  X(identity, "identity")  X(neg, "neg")             X(exp, "exp")                   \
  X(log, "log")            X(log1p, "log1p")         X(expm1, "expm1")               \
  X(sqrt, "sqrt")          X(rsqrt, "rsqrt")         X(abs, "abs")                   \
  X(sign, "sign")          X(square, "square")       X(reciprocal, "reciprocal")     \
  X(sin, "sin")            X(cos, "cos")             X(tanh, "tanh")                 \
  X(sigmoid, "sigmoid")    X(softplus, "softplus")   X(relu, "relu")                 \
  X(gelu_erf, "gelu_erf")  X(gelu_tanh, "gelu_tanh") X(silu, "silu")                 \
  X(erf, "erf")                                                                      \
  X(pow_scalar, "pow")           /* x^a */                                           \
  X(add_scalar, "add_scalar")    /* x + a */                                         \
  X(mul_scalar, "mul_scalar")    /* x * a */                                         \
  X(clamp, "clamp")              /* min(max(x, a), b); a = -inf / b = +inf: open */  \
  X(rsub_scalar, "rsub_scalar")  /* a - x */                                         \
  X(rdiv_scalar, "rdiv_scalar")  /* a / x */

#define DIFFVI_BINARY_OPS(X)                                                         \
  X(add, "add")  X(sub, "sub")  X(mul, "mul")  X(div, "div")  X(pow, "pow")          \
  X(maximum, "maximum")  X(minimum, "minimum")                                       \
  /* comparisons: results 1 or 0 in the input dtype */                               \
  X(eq, "eq")  X(ne, "ne")  X(lt, "lt")  X(le, "le")  X(gt, "gt")  X(ge, "ge")

#define DIFFVI_REDUCE_OPS(X) X(sum, "sum") X(max, "max") X(min, "min") X(logsumexp, "logsumexp")

// The activation a fused linear layer applies (the names are nn::Linear's, as PyTorch prints).
#define DIFFVI_ACTIVATIONS(X)                                                        \
  X(none, "none")  X(relu, "relu")  X(gelu_erf, "gelu")  X(gelu_tanh, "gelu_tanh")   \
  X(silu, "silu")  X(tanh, "tanh")  X(sigmoid, "sigmoid")
// clang-format on

#define DIFFVI_ENUMERATOR(e, name) e,
#define DIFFVI_PLUS_ONE(e, name) +1
enum class UnaryOp : uint8_t { DIFFVI_UNARY_OPS(DIFFVI_ENUMERATOR) };
enum class BinaryOp : uint8_t { DIFFVI_BINARY_OPS(DIFFVI_ENUMERATOR) };
enum class ReduceOp : uint8_t { DIFFVI_REDUCE_OPS(DIFFVI_ENUMERATOR) };
enum class Activation : uint8_t { DIFFVI_ACTIVATIONS(DIFFVI_ENUMERATOR) };
inline constexpr int kUnaryOpCount = 0 DIFFVI_UNARY_OPS(DIFFVI_PLUS_ONE);
inline constexpr int kBinaryOpCount = 0 DIFFVI_BINARY_OPS(DIFFVI_PLUS_ONE);
inline constexpr int kReduceOpCount = 0 DIFFVI_REDUCE_OPS(DIFFVI_PLUS_ONE);
inline constexpr int kActivationCount = 0 DIFFVI_ACTIVATIONS(DIFFVI_PLUS_ONE);
#undef DIFFVI_ENUMERATOR
#undef DIFFVI_PLUS_ONE

const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);
const char* reduce_name(ReduceOp op);
const char* activation_name(Activation act);

enum class Distribution : uint8_t { uniform, normal };  // U(a, b); N(a, b^2)

// One parameter tensor for the fused AdamW update (all contiguous, same numel, same dtype).
struct AdamWSlot {
  Buf param, grad, exp_avg, exp_avg_sq;
};
// Geometry of a 2-D convolution (a cross-correlation, as torch.nn.functional.conv2d): stride,
// symmetric zero padding and channel groups. Output extent: OH = (H + 2·pad_h − KH)/stride_h + 1.
struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, groups = 1;
};

struct AdamWConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  int64_t step = 1;  // 1-based step number, for bias correction
};

// The kernels, in two lists of X(name, (parameters), (arguments)). The lists declare the
// contract below, and generate every full list of it: the reference and CUDA backends'
// declarations, the profiler's forwarding and the tests' primitives-only backend.
//
// Primitives: every backend implements them.
#define DIFFVI_PRIMITIVE_KERNELS(X)                                                               \
  /* --- memory ---------------------------------------------------------------------------- */   \
  /* dst and src have the same shape; dtypes may differ (conversion). dst may be strided. */      \
  X(copy, (const Buf& dst, const Buf& src), (dst, src))                                           \
  /* Raw bytes between host memory and a contiguous buffer of this backend. */                    \
  X(copy_from_host, (void* dst, const void* host_src, size_t bytes), (dst, host_src, bytes))      \
  X(copy_to_host, (void* host_dst, const void* src, size_t bytes), (host_dst, src, bytes))        \
  X(fill, (const Buf& dst, double value), (dst, value))                                           \
  /* Element i (row-major in dst) = draw at counter offset + i of generator `seed`. */            \
  X(random,                                                                                       \
    (const Buf& dst, Distribution dist, double a, double b, uint64_t seed, uint64_t offset),      \
    (dst, dist, a, b, seed, offset))                                                              \
  /* dst[i] = start + i * step (1-D, any dtype). */                                               \
  X(arange, (const Buf& dst, double start, double step), (dst, start, step))                      \
  /* --- elementwise ----------------------------------------------------------------------- */   \
  /* dst = op(x; a, b); same shape and dtype. dst may alias x exactly (in-place). */              \
  X(unary, (UnaryOp op, const Buf& dst, const Buf& x, double a, double b), (op, dst, x, a, b))    \
  /* dx = dy * d op(x; a, b)/dx, all the same shape and dtype. For relu/abs/clamp the */          \
  /* derivative at kinks is 0 / 0 / 1 inside [a, b]. Not defined for sign (returns 0). */         \
  X(unary_backward, (UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a, double b), \
    (op, dx, x, dy, a, b))                                                                        \
  /* dst = op(x, y); x and y already broadcast to dst's shape (zero strides). */                  \
  X(binary, (BinaryOp op, const Buf& dst, const Buf& x, const Buf& y), (op, dst, x, y))           \
  /* dst = cond != 0 ? x : y; all broadcast to dst's shape; cond has dst's dtype. */              \
  X(where, (const Buf& dst, const Buf& cond, const Buf& x, const Buf& y), (dst, cond, x, y))      \
  /* --- reductions ------------------------------------------------------------------------ */   \
  /* dst has src's rank with every reduced dim of size 1 (keepdim form). Reducing an empty */     \
  /* extent gives 0 for sum, -inf for logsumexp; max/min of an empty extent are rejected. */      \
  X(reduce, (ReduceOp op, const Buf& dst, const Buf& src), (op, dst, src))                        \
  /* Inclusive prefix sum along `axis`; same shape. */                                            \
  X(cumsum, (const Buf& dst, const Buf& src, int64_t axis), (dst, src, axis))                     \
  /* --- linear algebra -------------------------------------------------------------------- */   \
  /* x: [B, M, K] (or [B, K, M] when trans_x, read transposed), w: [B, K, N] (or [B, N, K] */     \
  /* when trans_w), dst: [B, M, N] contiguous. Batch already broadcast; B may be 1. */            \
  X(matmul, (const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w),             \
    (dst, x, w, trans_x, trans_w))                                                                \
  /* --- indexing (index buffers are i64; values already range-checked) -------------------- */   \
  /* dst = src with dim `axis` replaced by index: dst[.., k, ..] = src[.., index[k], ..]. */      \
  X(index_select, (const Buf& dst, const Buf& src, int64_t axis, const Buf& index),               \
    (dst, src, axis, index))                                                                      \
  /* dst[i...] = src[i with i_axis replaced by index[i...]]; index and dst share a shape. */      \
  X(gather, (const Buf& dst, const Buf& src, int64_t axis, const Buf& index),                     \
    (dst, src, axis, index))                                                                      \
  /* dst[i with i_axis replaced by index[i...]] += src[i...]; index and src share a shape. */     \
  /* dst is updated in place (it may be strided). */                                              \
  X(scatter_add, (const Buf& dst, int64_t axis, const Buf& index, const Buf& src),                \
    (dst, axis, index, src))

// Fused kernels: the few that matter for speed. Each has a default built from the primitives of
// the same backend (fused_defaults.cpp, conv_defaults.cpp), so a new backend runs everything
// once it has the primitives, and overrides only what it accelerates.
#define DIFFVI_FUSED_KERNELS(X)                                                                  \
  /* dst[M, N] = act(x[M, K] · w[N, K]ᵀ + bias[N]); bias may be null. x and w contiguous. */  \
  X(linear, (const Buf& dst, const Buf& x, const Buf& w, const Buf* bias, Activation act),       \
    (dst, x, w, bias, act))                                                                      \
  /* --- convolution (NCHW) ---------------------------------------------------------------- */  \
  /* y[N, O, OH, OW] = x[N, C, H, W] ⋆ w[O, C/groups, KH, KW] + bias[O] (bias may be null). */ \
  /* Shapes already agree with `p` (the tensor layer checks them); every buffer contiguous. */   \
  X(conv2d, (const Buf& y, const Buf& x, const Buf& w, const Buf* bias, const Conv2dParams& p),  \
    (y, x, w, bias, p))                                                                          \
  /* dx[N, C, H, W] (overwritten) = the gradient of conv2d with respect to x, given dy and w. */ \
  X(conv2d_backward_data, (const Buf& dx, const Buf& dy, const Buf& w, const Conv2dParams& p),   \
    (dx, dy, w, p))                                                                              \
  /* dw[O, C/groups, KH, KW] (overwritten) = the gradient with respect to w, given x and dy; */  \
  /* when non-null, dbias[O] = dy summed over N, OH and OW. */                                   \
  X(conv2d_backward_weights,                                                                     \
    (const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy, const Conv2dParams& p),       \
    (dw, dbias, x, dy, p))                                                                       \
  /* --- normalisation --------------------------------------------------------------------- */  \
  /* Row-wise over contiguous [rows, cols] (the tensor layer flattens): log=false softmax, */    \
  /* log=true log-softmax. */                                                                    \
  X(softmax, (const Buf& dst, const Buf& x, bool log), (dst, x, log))                            \
  /* Given y = (log)softmax(x) and dy, dx (all [rows, cols] contiguous). */                      \
  X(softmax_backward, (const Buf& dx, const Buf& y, const Buf& dy, bool log), (dx, y, dy, log))  \
  /* y = (x - mean) * rstd * gamma + beta, row-wise on [rows, cols]; writes mean[rows] and */    \
  /* rstd[rows] = 1/sqrt(var + eps) (biased variance). gamma/beta [cols] may be null. */         \
  X(layer_norm,                                                                                  \
    (const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x, const Buf* gamma,             \
     const Buf* beta, double eps),                                                               \
    (y, mean, rstd, x, gamma, beta, eps))                                                        \
  /* dx always; dgamma/dbeta [cols] when non-null (overwritten, not accumulated). */             \
  X(layer_norm_backward,                                                                         \
    (const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy, const Buf& x,            \
     const Buf& mean, const Buf& rstd, const Buf* gamma),                                        \
    (dx, dgamma, dbeta, dy, x, mean, rstd, gamma))                                               \
  /* --- optimisers ------------------------------------------------------------------------ */  \
  /* Decoupled-weight-decay Adam over a whole parameter set, in place. */                        \
  X(adamw, (std::span<const AdamWSlot> slots, const AdamWConfig& config), (slots, config))

// Every kernel, primitives first.
#define DIFFVI_BACKEND_KERNELS(X) DIFFVI_PRIMITIVE_KERNELS(X) DIFFVI_FUSED_KERNELS(X)

// `void name(parameters) override;` for each kernel of a list: a backend that implements a whole
// list declares it with DIFFVI_PRIMITIVE_KERNELS(DIFFVI_DECLARE_OVERRIDE).
#define DIFFVI_DECLARE_OVERRIDE(name, params, args) void name params override;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual DeviceType device_type() const = 0;
  virtual bool supports(DType dtype) const = 0;
  virtual Allocator& allocator() = 0;
  virtual void set_num_threads(int /*n*/) {}

#define DIFFVI_DECLARE_PRIMITIVE(name, params, args) virtual void name params = 0;
#define DIFFVI_DECLARE_FUSED(name, params, args) virtual void name params;
  DIFFVI_PRIMITIVE_KERNELS(DIFFVI_DECLARE_PRIMITIVE)
  DIFFVI_FUSED_KERNELS(DIFFVI_DECLARE_FUSED)
#undef DIFFVI_DECLARE_PRIMITIVE
#undef DIFFVI_DECLARE_FUSED
};

// Registry. The tensor layer dispatches on a tensor's device type to the active backend for it.
// Backends register themselves at static-initialisation time; names must be unique.
void register_backend(Backend* backend, bool make_default);
Backend* find_backend(const std::string& name);  // nullptr if absent
std::vector<Backend*> registered_backends();     // in registration order (tests walk them all)
Backend& backend_for(DeviceType type);           // active backend; DeviceError if none

// Routes every op on `backend`'s device type to `backend` in this thread while alive (tests use
// it to run the same op on the reference and CPU backends).
class BackendGuard {
 public:
  explicit BackendGuard(Backend& backend);
  explicit BackendGuard(const std::string& name);  // ValueError for an unknown name
  ~BackendGuard();
  BackendGuard(const BackendGuard&) = delete;
  BackendGuard& operator=(const BackendGuard&) = delete;

 private:
  DeviceType type_;
  Backend* previous_;
};

}  // namespace diffvi
