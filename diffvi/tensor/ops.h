// Tensor-layer operations: validate arguments (typed errors naming the op, shapes, dtypes and
// devices), allocate outputs, broadcast by zero strides, and call one backend kernel. These are
// NOT differentiable; the autograd layer wraps them (namespace diffvi) and records the graph.
#pragma once

#include <optional>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::raw {

// --- views (share storage) ---------------------------------------------------------------------
Tensor as_strided(const Tensor& x, const Shape& shape, const Strides& strides, int64_t offset);
Tensor view(const Tensor& x, Shape shape);     // one -1 may be inferred; ShapeError if impossible
Tensor reshape(const Tensor& x, Shape shape);  // a view when strides allow, else a copy
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, const Shape& shape);  // -1 keeps a dim
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);

// --- copies and conversion ---------------------------------------------------------------------
Tensor contiguous(const Tensor& x);  // x itself when already contiguous
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);           // x itself when already that dtype
Tensor to(const Tensor& x, Device device);         // x itself when already there
void copy_(const Tensor& dst, const Tensor& src);  // src broadcast to dst's shape
void fill_(const Tensor& dst, double value);
void random_(const Tensor& dst, Distribution dist, double a, double b, Generator& gen);

// --- compute -------------------------------------------------------------------------------------
Tensor unary(UnaryOp op, const Tensor& x, double a = 0, double b = 0);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, double a = 0, double b = 0);
Tensor binary(BinaryOp op, const Tensor& x, const Tensor& y);  // NumPy broadcasting
Tensor binary_scalar(BinaryOp op, const Tensor& x, double y);
Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y);
// Empty dims reduce everything. max/min of an empty extent raise ValueError.
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor cumsum(const Tensor& x, int64_t dim);
// NumPy matmul: 1-D operands are promoted and the added dim removed; batch dims broadcast.
Tensor matmul(const Tensor& x, const Tensor& w);
// x [..., K], w [N, K], bias [N] or undefined -> act(x wᵀ + bias) [..., N].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, Activation act);
Tensor softmax(const Tensor& x, int64_t dim, bool log);
Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim, bool log);

struct LayerNormOut {
  Tensor y, mean, rstd;  // mean/rstd: [rows]
};
// Normalises over the last `normalized_ndim` dims; gamma/beta undefined or of that shape.
LayerNormOut layer_norm(const Tensor& x, int64_t normalized_ndim, const Tensor& gamma,
                        const Tensor& beta, double eps);
struct LayerNormGrads {
  Tensor dx, dgamma, dbeta;  // dgamma/dbeta undefined unless requested
};
LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                   const Tensor& rstd, int64_t normalized_ndim, const Tensor& gamma,
                                   bool want_gamma, bool want_beta);

// --- convolution (conv_ops.cpp) ------------------------------------------------------------------
// x [N, C, H, W] ⋆ w [O, C/groups, KH, KW] + bias [O] (or undefined) -> [N, O, OH, OW], with
// OH = (H + 2·pad_h − KH)/stride_h + 1. ShapeError naming the shapes for any inconsistency.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p);
// The gradient with respect to x (of shape `input_shape`) of conv2d given dy [N, O, OH, OW].
Tensor conv2d_backward_data(const Tensor& dy, const Tensor& w, const Shape& input_shape,
                            const Conv2dParams& p);
struct Conv2dWeightGrads {
  Tensor dw, dbias;  // dbias undefined unless requested
};
// The gradients with respect to w (of shape `weight_shape`) and, when want_bias, the bias.
Conv2dWeightGrads conv2d_backward_weights(const Tensor& x, const Tensor& dy,
                                          const Shape& weight_shape, const Conv2dParams& p,
                                          bool want_bias);

// Indices are i64 tensors; IndexError for values out of range.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype = DType::f32);

// Fused AdamW over parameter/grad/state quadruples (same device and dtype, each contiguous).
void adamw_(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
            const std::vector<Tensor>& exp_avg, const std::vector<Tensor>& exp_avg_sq,
            const AdamWConfig& config);

}  // namespace diffvi::raw
