// The differentiable operations: the public tensor API of diffvi. Each op is defined once, with
// its forward (a tensor-layer op, ../tensor/ops.h) and its backward, in a file per family:
// unary.cpp, binary.cpp, reduce.cpp, matmul.cpp, norm.cpp, conv.cpp, pool.cpp, shape.cpp,
// indexing.cpp.
// Gradients of broadcast operands are summed back to the operand's shape.
#pragma once

#include <optional>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi {

// --- unary (unary.cpp) ----------------------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // gradient 0
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor relu(const Tensor& x);
enum class GeluApprox { none, tanh };
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::none);
Tensor silu(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
// Applies an Activation by enum (none = identity).
Tensor activation(const Tensor& x, Activation act);

// --- binary, broadcasting (binary.cpp) --------------------------------------------------------
Tensor add(const Tensor& x, const Tensor& y);
Tensor sub(const Tensor& x, const Tensor& y);
Tensor mul(const Tensor& x, const Tensor& y);
Tensor div(const Tensor& x, const Tensor& y);
Tensor pow(const Tensor& x, const Tensor& y);
Tensor maximum(const Tensor& x, const Tensor& y);  // gradient split equally at ties
Tensor minimum(const Tensor& x, const Tensor& y);
Tensor add(const Tensor& x, double y);
Tensor sub(const Tensor& x, double y);
Tensor mul(const Tensor& x, double y);
Tensor div(const Tensor& x, double y);
Tensor rsub(double x, const Tensor& y);                              // x - y
Tensor rdiv(double x, const Tensor& y);                              // x / y
Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y);  // cond != 0 ? x : y
// Comparisons: 1/0 in x's dtype, never differentiable.
Tensor eq(const Tensor& x, const Tensor& y);
Tensor ne(const Tensor& x, const Tensor& y);
Tensor lt(const Tensor& x, const Tensor& y);
Tensor le(const Tensor& x, const Tensor& y);
Tensor gt(const Tensor& x, const Tensor& y);
Tensor ge(const Tensor& x, const Tensor& y);

Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& x, const Tensor& y);
Tensor operator-(const Tensor& x, const Tensor& y);
Tensor operator*(const Tensor& x, const Tensor& y);
Tensor operator/(const Tensor& x, const Tensor& y);
Tensor operator+(const Tensor& x, double y);
Tensor operator-(const Tensor& x, double y);
Tensor operator*(const Tensor& x, double y);
Tensor operator/(const Tensor& x, double y);
Tensor operator+(double x, const Tensor& y);
Tensor operator-(double x, const Tensor& y);
Tensor operator*(double x, const Tensor& y);
Tensor operator/(double x, const Tensor& y);

// --- reductions (reduce.cpp); empty dims = all dims -------------------------------------------
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor min(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Variance with `correction` (1 = unbiased, as PyTorch's default; 0 = population).
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, int64_t correction = 1,
           bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& x, const Shape& shape);

// --- linear algebra (matmul.cpp) --------------------------------------------------------------
Tensor matmul(const Tensor& x, const Tensor& w);  // NumPy semantics, batched, broadcasting
// x [..., in] · wᵀ + bias, w [out, in], bias [out] or undefined, fused with an activation.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = {},
              Activation act = Activation::none);

// --- normalisation (norm.cpp) -----------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Normalises over the trailing dims of `normalized_shape`'s rank; weight/bias optional.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// --- convolution (conv.cpp) and pooling (pool.cpp), NCHW
// ------------------------------------------ 2-D cross-correlation as torch.nn.functional.conv2d: x
// [N, C, H, W], w [O, C/groups, KH, KW], bias [O] or undefined -> [N, O, OH, OW]. Differentiable to
// any order: its backward is two recorded ops (backward-data, backward-weights) whose own backwards
// are convolutions again.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& params);
// The same with equal stride and padding in both spatial dims.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias = {}, int64_t stride = 1,
              int64_t padding = 0, int64_t groups = 1);
// Mean over non-overlapping k×k windows (kernel = stride = k); ShapeError unless H and W are
// divisible by k. Composite (reshape + mean), so differentiable to any order.
Tensor avg_pool2d(const Tensor& x, int64_t k);
// Nearest-neighbour upsampling of [N, C, H, W] by an integer factor -> [N, C, H·f, W·f].
// Composite (expand + reshape); its gradient sums each f×f block.
Tensor upsample_nearest2d(const Tensor& x, int64_t factor);

// --- shape (shape.cpp); views share storage ------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor view(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor squeeze(const Tensor& x, std::optional<int64_t> dim = std::nullopt);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // removes dim
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype);
Tensor to(const Tensor& x, Device device);
// A tensor sharing x's data with no history (never requires grad).
Tensor detach(const Tensor& x);

// --- indexing (indexing.cpp); indices are i64 ----------------------------------------------------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype = DType::f32);

}  // namespace diffvi
