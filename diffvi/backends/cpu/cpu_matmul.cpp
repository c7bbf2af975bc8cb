// matmul and linear: f32 through cached oneDNN matmul primitives (transposes and batch
// broadcasts expressed as strides, bias and activation fused as post-ops), f64 through OpenBLAS
// dgemm. Layouts that are neither row- nor column-major in the matrix dims go to the reference.
#include <cblas.h>

#include <algorithm>
#include <utility>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_dnnl.h"
#include "diffvi/backends/cpu/cpu_internal.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {
namespace {

using cpu::PrimitiveKey;
using dnnl::memory;

// One operand as a batch of logical [rows, cols] matrices.
struct MatView {
  int64_t batch, batch_stride, rows, cols, row_stride, col_stride;
  // BLAS-compatible: row-major (unit column stride) or column-major, with a valid leading dim.
  bool row_major() const { return col_stride == 1 && row_stride >= std::max<int64_t>(1, cols); }
  bool col_major() const { return row_stride == 1 && col_stride >= std::max<int64_t>(1, rows); }
  bool blas_ok() const { return row_major() || col_major(); }
};

// Strides of size-1 dims are arbitrary in a view; give them the values BLAS and oneDNN expect.
MatView view_of(const Buf& b, bool trans) {
  MatView v{b.shape[0], b.strides[0], b.shape[1], b.shape[2], b.strides[1], b.strides[2]};
  if (trans) {
    std::swap(v.rows, v.cols);
    std::swap(v.row_stride, v.col_stride);
  }
  if (v.rows == 1 && v.cols == 1) {
    v.row_stride = v.col_stride = 1;
  } else if (v.cols == 1) {
    if (v.row_stride == 1)
      v.col_stride = v.rows;
    else
      v.col_stride = 1;
  } else if (v.rows == 1) {
    if (v.col_stride == 1)
      v.row_stride = v.cols;
    else
      v.row_stride = 1;
  }
  // A batch of one, or a batch broadcast by a zero stride, is a single matrix that oneDNN
  // broadcasts itself.
  if (v.batch == 1 || v.batch_stride == 0) {
    v.batch = 1;
    v.batch_stride = std::max(v.rows * v.row_stride, v.cols * v.col_stride);
  }
  return v;
}

memory::desc md_of(const MatView& v, memory::data_type dt, bool batched) {
  if (!batched) return memory::desc({v.rows, v.cols}, dt, {v.row_stride, v.col_stride});
  return memory::desc({v.batch, v.rows, v.cols}, dt, {v.batch_stride, v.row_stride, v.col_stride});
}

void append_view(PrimitiveKey& key, const MatView& v) {
  key.insert(key.end(), {v.batch, v.batch_stride, v.rows, v.cols, v.row_stride, v.col_stride});
}

bool append_activation(dnnl::post_ops& ops, Activation act) {
  using dnnl::algorithm;
  switch (act) {
    case Activation::none:
      return false;
    case Activation::relu:
      ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      break;
    case Activation::gelu_erf:
      ops.append_eltwise(1.f, algorithm::eltwise_gelu_erf, 0.f, 0.f);
      break;
    case Activation::gelu_tanh:
      ops.append_eltwise(1.f, algorithm::eltwise_gelu_tanh, 0.f, 0.f);
      break;
    case Activation::silu:
      ops.append_eltwise(1.f, algorithm::eltwise_swish, 1.f, 0.f);
      break;
    case Activation::tanh:
      ops.append_eltwise(1.f, algorithm::eltwise_tanh, 0.f, 0.f);
      break;
    case Activation::sigmoid:
      ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f);
      break;
  }
  return true;
}

// dst[B, M, N] = act(x · w + bias) with oneDNN; false when oneDNN has no implementation.
bool dnnl_matmul(const Buf& dst, const MatView& x, const MatView& w, const void* x_data,
                 const void* w_data, const Buf* bias, Activation act) {
  const int64_t batch = dst.shape[0], m = dst.shape[1], n = dst.shape[2];
  const bool batched = batch > 1;
  const cpu::SerialScope serial(batch * m * n * x.cols < cpu::kSerialMatmulMacs);
  PrimitiveKey key{static_cast<int64_t>(cpu::PrimitiveKind::matmul),
                   batch,
                   m,
                   n,
                   static_cast<int64_t>(act),
                   bias != nullptr};
  append_view(key, x);
  append_view(key, w);
  // Descriptors are built only when the primitive is: the key fixes them.
  auto make = [&]() -> dnnl::primitive {
    const auto dt = memory::data_type::f32;
    const memory::desc x_md = md_of(x, dt, batched);
    const memory::desc w_md = md_of(w, dt, batched);
    const memory::desc dst_md =
        batched ? memory::desc({batch, m, n}, dt, {m * n, n, 1}) : memory::desc({m, n}, dt, {n, 1});
    const memory::desc bias_md =
        batched ? memory::desc({1, 1, n}, dt, {n, n, 1}) : memory::desc({1, n}, dt, {n, 1});
    dnnl::primitive_attr attr;
    dnnl::post_ops ops;
    if (append_activation(ops, act)) attr.set_post_ops(ops);
    auto desc = bias ? dnnl::matmul::desc(x_md, w_md, bias_md, dst_md)
                     : dnnl::matmul::desc(x_md, w_md, dst_md);
    return dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, cpu::dnnl_engine()));
  };
  cpu::BoundPrimitive& prim =
      bias ? cpu::bound_primitive(
                 key, {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_BIAS}, make)
           : cpu::bound_primitive(key, {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST}, make);
  if (!prim) return false;
  if (bias) {
    prim.execute({x_data, w_data, dst.data, bias->data});
  } else {
    prim.execute({x_data, w_data, dst.data});
  }
  return true;
}

// One GEMM of OpenBLAS's, row-major, in T (f32: sgemm, f64: dgemm).
inline void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
inline void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a,
                      int64_t lda, const double* b, int64_t ldb, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

// C[M, N] (row-major, ldc = N) = A · B per batch with OpenBLAS, both views blas_ok().
template <class T>
void blas_matmul(const Buf& dst, const MatView& a, const MatView& b, const T* a_data,
                 const T* b_data) {
  const int64_t batch = dst.shape[0], m = dst.shape[1], n = dst.shape[2], k = a.cols;
  const bool ta = !a.row_major(), tb = !b.row_major();
  const int64_t lda = ta ? a.col_stride : a.row_stride;
  const int64_t ldb = tb ? b.col_stride : b.row_stride;
  T* c = dst.ptr<T>();
  for (int64_t i = 0; i < batch; ++i) {
    const T* ai = a_data + (a.batch == 1 ? 0 : i * a.batch_stride);
    const T* bi = b_data + (b.batch == 1 ? 0 : i * b.batch_stride);
    blas_gemm(ta, tb, m, n, k, ai, lda, bi, ldb, c + i * m * n, n);
  }
}

// oneDNN 2.6's f32 matmul runs an output only a few columns or rows wide at 13-20 GFLOP/s, where
// OpenBLAS's sgemm reaches 55-100 (bench_ops: the W1 output layer [512, 64] -> 2 and its weight
// gradient [64, 512] . [512, 3]); those go to sgemm.
constexpr int64_t kThinOutput = 4;

bool thin(int64_t m, int64_t n) { return std::min(m, n) <= kThinOutput; }

// out[M, N] = act(x[M, K] · w[N, K]ᵀ + bias) with OpenBLAS, then the bias and activation in
// one pass (in T, with the reference's per-element activation).
template <class T>
void blas_linear(T* out, const T* x, const T* w, const T* bias, int64_t m, int64_t n, int64_t k,
                 Activation act) {
  blas_gemm(false, true, m, n, k, x, k, w, k, out, n);
  if (!bias && act == Activation::none) return;
  const UnaryOp op = scalar::activation_op(act);
  cpu::parallel_for(
      m,
      [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          T* row = out + i * n;
          for (int64_t j = 0; j < n; ++j) {
            const T v = row[j] + (bias ? bias[j] : T(0));
            row[j] = act == Activation::none
                         ? v
                         : static_cast<T>(scalar::unary_value<double>(op, v, 0.0, 0.0));
          }
        }
      },
      /*threshold=*/std::max<int64_t>(1, cpu::kParallelThresholdHeavy / std::max<int64_t>(1, n)));
}

}  // namespace

void CpuBackend::matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) {
  const bool shapes_ok = dst.ndim() == 3 && x.ndim() == 3 && w.ndim() == 3 && x.dtype == w.dtype &&
                         x.dtype == dst.dtype && is_floating(x.dtype) && cpu::is_dense(dst);
  if (!shapes_ok || dst.numel() == 0 || (trans_x ? x.shape[1] : x.shape[2]) == 0) {
    ReferenceBackend::matmul(dst, x, w, trans_x, trans_w);
    return;
  }
  const MatView xv = view_of(x, trans_x), wv = view_of(w, trans_w);
  if (xv.blas_ok() && wv.blas_ok()) {
    if (x.dtype == DType::f32 && !thin(dst.shape[1], dst.shape[2])) {
      if (dnnl_matmul(dst, xv, wv, x.data, w.data, nullptr, Activation::none)) return;
    } else if (x.dtype == DType::f32) {
      const cpu::SerialScope serial(true);  // a few thousand MACs: never worth a second thread
      blas_matmul(dst, xv, wv, x.ptr<float>(), w.ptr<float>());
      return;
    } else {
      blas_matmul(dst, xv, wv, x.ptr<double>(), w.ptr<double>());
      return;
    }
  }
  ReferenceBackend::matmul(dst, x, w, trans_x, trans_w);
}

void CpuBackend::linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
                        Activation act) {
  const bool ok = dst.ndim() == 2 && x.ndim() == 2 && w.ndim() == 2 && is_floating(x.dtype) &&
                  x.dtype == w.dtype && x.dtype == dst.dtype && cpu::is_dense(dst) &&
                  cpu::is_dense(x) && cpu::is_dense(w) && dst.numel() > 0 && x.shape[1] > 0 &&
                  (!bias || (bias->dtype == x.dtype && cpu::is_dense(*bias)));
  if (!ok) {
    ReferenceBackend::linear(dst, x, w, bias, act);
    return;
  }
  const int64_t m = x.shape[0], k = x.shape[1], n = w.shape[0];
  if (x.dtype == DType::f32 && !thin(m, n)) {
    // x [M, K] row-major; w [N, K] row-major read as its transpose [K, N] (column-major).
    const MatView xv = view_of(Buf{x.data, x.dtype, {1, m, k}, {m * k, k, 1}}, false);
    const MatView wv = view_of(Buf{w.data, w.dtype, {1, n, k}, {n * k, k, 1}}, true);
    Buf dst3 = dst;
    dst3.shape = {1, m, n};
    dst3.strides = {m * n, n, 1};
    if (!dnnl_matmul(dst3, xv, wv, x.data, w.data, bias, act)) {
      ReferenceBackend::linear(dst, x, w, bias, act);
    }
    return;
  }
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const cpu::SerialScope serial(x.dtype == DType::f32);  // f32 here is a thin output
    blas_linear(dst.ptr<T>(), x.ptr<T>(), w.ptr<T>(), bias ? bias->ptr<T>() : nullptr, m, n, k,
                act);
  });
}

}  // namespace diffvi
