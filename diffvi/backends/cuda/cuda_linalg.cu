// CUDA backend: batched matmul with transpose flags (cuBLAS), and the fused linear layer
// (cuBLAS GEMM, then one bias + activation kernel).
// Must match: ReferenceBackend::matmul and ReferenceBackend::linear (reference_linalg.cpp). The
// activation is scalar::activation_op + scalar::unary_value, as in the reference.
#include <climits>
#include <memory>
#include <string>
#include <utility>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/host_views.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cuda {

namespace {

// How cuBLAS (column-major) sees a row-major logical matrix M [R, C]. Row-major storage
// (sc == 1) is Mᵀ in column-major with ld = sr; column-major storage (sr == 1) is M with
// ld = sc, i.e. needs op T to read Mᵀ. Anything else needs a contiguous copy first.
struct GemmOperand {
  bool usable = false;
  cublasOperation_t op = CUBLAS_OP_N;  // applied to get the column-major Mᵀ
  int64_t ld = 0;
};

GemmOperand gemm_operand(const MatView& v) {
  if (v.sc == 1 && v.sr >= v.cols && v.sr >= 1) return {true, CUBLAS_OP_N, v.sr};
  if (v.sr == 1 && v.sc >= v.rows && v.sc >= 1) return {true, CUBLAS_OP_T, v.sc};
  return {};
}

int to_int(int64_t v, const char* what) {
  if (v > INT_MAX) {
    throw ValueError(std::string("cuda backend: matmul ") + what + " " + std::to_string(v) +
                     " exceeds cuBLAS's int range");
  }
  return static_cast<int>(v);
}

}  // namespace

void CudaBackend::matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) {
  require_f32("matmul", x.dtype);
  MatView a = mat_view(x, trans_x, "cuda backend", "x");
  MatView b = mat_view(w, trans_w, "cuda backend", "w");
  const MatView c = mat_view(dst, false, "cuda backend", "dst");
  if (a.cols != b.rows || a.rows != c.rows || b.cols != c.cols ||
      (a.batch != 1 && a.batch != c.batch) || (b.batch != 1 && b.batch != c.batch)) {
    throw ShapeError("cuda backend: matmul of " + shape_str(x.shape) + (trans_x ? "ᵀ" : "") +
                     " by " + shape_str(w.shape) + (trans_w ? "ᵀ" : "") + " into " +
                     shape_str(dst.shape));
  }
  if (c.batch * c.rows * c.cols == 0) return;
  if (a.cols == 0) {  // an empty inner dim: the sum of nothing
    fill(dst, 0.0);
    return;
  }
  if (c.sc != 1 || c.sr != c.cols || (c.batch > 1 && c.sb != c.rows * c.cols)) {
    throw ShapeError("cuda backend: matmul needs a contiguous dst, got strides of " +
                     shape_str(dst.shape));
  }
  // Operands cuBLAS cannot address (e.g. a permuted batch) are copied to a contiguous buffer.
  std::unique_ptr<Storage> keep_a, keep_b;
  Buf xa = x, wb = w;
  GemmOperand ga = gemm_operand(a), gb = gemm_operand(b);
  if (!ga.usable) {
    xa = contiguous_copy(x, keep_a);
    a = mat_view(xa, trans_x, "cuda backend", "x");
    ga = gemm_operand(a);
  }
  if (!gb.usable) {
    wb = contiguous_copy(w, keep_b);
    b = mat_view(wb, trans_w, "cuda backend", "w");
    gb = gemm_operand(b);
  }
  // Row-major C = A B is column-major Cᵀ = Bᵀ Aᵀ: pass B first.
  const float alpha = 1.0f, beta = 0.0f;
  const int m = to_int(c.cols, "N"), n = to_int(c.rows, "M"), k = to_int(a.cols, "K");
  check_blas(cublasSgemmStridedBatched(blas(), gb.op, ga.op, m, n, k, &alpha, wb.ptr<float>(),
                                       to_int(gb.ld, "ld"), b.sb, xa.ptr<float>(),
                                       to_int(ga.ld, "ld"), a.sb, &beta, dst.ptr<float>(), m,
                                       c.rows * c.cols, to_int(c.batch, "batch")),
             "cublasSgemmStridedBatched");
}

void CudaBackend::linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
                         Activation act) {
  require_f32("linear", x.dtype);
  if (x.ndim() != 2 || w.ndim() != 2 || dst.ndim() != 2 || x.shape[1] != w.shape[1] ||
      dst.shape[0] != x.shape[0] || dst.shape[1] != w.shape[0] ||
      (bias != nullptr && bias->numel() != w.shape[0])) {
    throw ShapeError("cuda backend: linear of " + shape_str(x.shape) + " by " + shape_str(w.shape) +
                     "ᵀ" + (bias ? " + " + shape_str(bias->shape) : std::string()) + " into " +
                     shape_str(dst.shape));
  }
  matmul(dst, x, w, /*trans_x=*/false, /*trans_w=*/true);
  if (bias == nullptr && act == Activation::none) return;
  // Bias and activation in one pass over the GEMM result (a cuBLASLt epilogue would save it).
  const int64_t n = dst.shape[1];
  const Indexer<1> bias_ix = bias ? make_indexer(*bias) : Indexer<1>{};
  const float* pbias = bias ? bias->ptr<float>() : nullptr;
  const UnaryOp op = scalar::activation_op(act);
  float* out = dst.ptr<float>();
  const int64_t s0 = dst.strides[0], s1 = dst.strides[1];
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        const int64_t r = i / n, j = i % n;
        float v = out[r * s0 + j * s1];
        if (pbias) v += pbias[bias_ix.offset(j)];
        out[r * s0 + j * s1] = scalar::unary_value<float>(op, v, 0.0f, 0.0f);
      },
      "linear_bias_activation");
}

}  // namespace diffvi::cuda
