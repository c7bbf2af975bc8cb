// The kernel contract. A backend implements these kernels on raw strided buffers; the tensor
// layer validates arguments, allocates outputs, broadcasts (by zero strides) and then calls
// exactly one kernel. Kernels may therefore assume: shapes agree as documented, dtypes agree
// unless stated, `dst` never aliases an input unless stated, and dst is contiguous unless stated.
// Inputs may have any strides (including 0 and negative-free views with offsets).
#pragma once

#include <cstdint>
#include <span>
#include <string>

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
  T* ptr() const { return static_cast<T*>(data); }
};

enum class UnaryOp : uint8_t {
  identity, neg, exp, log, log1p, expm1, sqrt, rsqrt, abs, sign, square, reciprocal,
  sin, cos, tanh, sigmoid, softplus, relu, gelu_erf, gelu_tanh, silu, erf,
  pow_scalar,   // x^a
  add_scalar,   // x + a
  mul_scalar,   // x * a
  clamp,        // min(max(x, a), b); a = -inf / b = +inf when unbounded
  rsub_scalar,  // a - x
  rdiv_scalar,  // a / x
};
// The number of UnaryOps: keep rdiv_scalar last, or move this. Tests walk every op by it.
inline constexpr int kUnaryOpCount = static_cast<int>(UnaryOp::rdiv_scalar) + 1;
const char* unary_name(UnaryOp op);

enum class BinaryOp : uint8_t {
  add, sub, mul, div, pow, maximum, minimum,
  eq, ne, lt, le, gt, ge,  // results 1 or 0 in the input dtype
};
inline constexpr int kBinaryOpCount = static_cast<int>(BinaryOp::ge) + 1;  // ge stays last
const char* binary_name(BinaryOp op);

enum class ReduceOp : uint8_t { sum, max, min, logsumexp };

enum class Activation : uint8_t { none, relu, gelu_erf, gelu_tanh, silu, tanh, sigmoid };
inline constexpr int kActivationCount = static_cast<int>(Activation::sigmoid) + 1;  // last

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

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual DeviceType device_type() const = 0;
  virtual bool supports(DType dtype) const = 0;
  virtual Allocator& allocator() = 0;
  virtual void set_num_threads(int /*n*/) {}

  // --- memory -------------------------------------------------------------------------------
  // dst and src have the same shape; dtypes may differ (value conversion). dst may be strided.
  virtual void copy(const Buf& dst, const Buf& src) = 0;
  // Raw bytes between host memory and a contiguous buffer of this backend.
  virtual void copy_from_host(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void fill(const Buf& dst, double value) = 0;
  // Element i (row-major in dst) = draw at counter offset + i of generator `seed` (generator.h).
  virtual void random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
                      uint64_t offset) = 0;
  // dst[i] = start + i * step (1-D, any dtype).
  virtual void arange(const Buf& dst, double start, double step) = 0;

  // --- elementwise --------------------------------------------------------------------------
  // dst = op(x; a, b); same shape and dtype. dst may alias x exactly (in-place).
  virtual void unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) = 0;
  // dx = dy * d op(x; a, b)/dx, all the same shape and dtype. For relu/abs/clamp the
  // derivative at kinks is 0 / 0 / 1 inside [a, b]. Not defined for sign (returns 0).
  virtual void unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                              double b) = 0;
  // dst = op(x, y); x and y already broadcast to dst's shape (zero strides).
  virtual void binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) = 0;
  // dst = cond != 0 ? x : y; all broadcast to dst's shape; cond has dst's dtype.
  virtual void where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) = 0;

  // --- reductions ---------------------------------------------------------------------------
  // dst has src's rank with every reduced dim of size 1 (keepdim form). Reducing an empty
  // extent gives 0 for sum, -inf for logsumexp; max/min of an empty extent are rejected above.
  virtual void reduce(ReduceOp op, const Buf& dst, const Buf& src) = 0;
  // Inclusive prefix sum along `axis`; same shape.
  virtual void cumsum(const Buf& dst, const Buf& src, int64_t axis) = 0;

  // --- linear algebra -----------------------------------------------------------------------
  // x: [B, M, K] (or [B, K, M] when trans_x, read transposed), w: [B, K, N] (or [B, N, K] when
  // trans_w), dst: [B, M, N] contiguous. Batch already broadcast; B may be 1.
  virtual void matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) = 0;
  // dst[M, N] = act(x[M, K] · w[N, K]ᵀ + bias[N]); bias may be null. x and w contiguous.
  virtual void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
                      Activation act) = 0;

  // --- convolution (NCHW; conv.cpp of each backend) -------------------------------------------
  // y[N, O, OH, OW] = x[N, C, H, W] ⋆ w[O, C/groups, KH, KW] + bias[O] (bias may be null). Shapes
  // already agree with `p` (the tensor layer checks them); every buffer is contiguous.
  virtual void conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
                      const Conv2dParams& p) = 0;
  // dx[N, C, H, W] (overwritten) = the gradient of conv2d with respect to x, given dy and w.
  virtual void conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                                    const Conv2dParams& p) = 0;
  // dw[O, C/groups, KH, KW] (overwritten) = the gradient with respect to w, given x and dy; when
  // non-null, dbias[O] = dy summed over N, OH and OW.
  virtual void conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x,
                                       const Buf& dy, const Conv2dParams& p) = 0;

  // --- fused normalisation ------------------------------------------------------------------
  // Row-wise over contiguous [rows, cols] (the tensor layer flattens): log=false softmax,
  // log=true log-softmax.
  virtual void softmax(const Buf& dst, const Buf& x, bool log) = 0;
  // Given y = (log)softmax(x) and dy, dx (all [rows, cols] contiguous).
  virtual void softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) = 0;
  // y = (x - mean) * rstd * gamma + beta, row-wise on [rows, cols]; writes mean[rows] and
  // rstd[rows] = 1/sqrt(var + eps) (biased variance). gamma/beta [cols] may be null.
  virtual void layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                          const Buf* gamma, const Buf* beta, double eps) = 0;
  // dx always; dgamma/dbeta [cols] when non-null (overwritten, not accumulated).
  virtual void layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta,
                                   const Buf& dy, const Buf& x, const Buf& mean,
                                   const Buf& rstd, const Buf* gamma) = 0;

  // --- indexing (index buffers are i64; values already range-checked) ------------------------
  // dst = src with dim `axis` replaced by index[k]: dst[..., k, ...] = src[..., index[k], ...].
  virtual void index_select(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) = 0;
  // dst[i...] = src[i with i_axis replaced by index[i...]]; index and dst share a shape.
  virtual void gather(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) = 0;
  // dst[i with i_axis replaced by index[i...]] += src[i...]; index and src share a shape.
  // dst is updated in place (it may be strided).
  virtual void scatter_add(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) = 0;

  // --- optimisers ---------------------------------------------------------------------------
  // Decoupled-weight-decay Adam over a whole parameter set, in place.
  virtual void adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) = 0;
};

// Registry. The tensor layer dispatches on a tensor's device type to the active backend for it.
// Backends register themselves at static-initialisation time; names must be unique.
void register_backend(Backend* backend, bool make_default);
Backend* find_backend(const std::string& name);  // nullptr if absent
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
