// CUDA backend: unary maps, their backward, binary ops and where over strided inputs.
// Must match: ReferenceBackend::unary / unary_backward / binary / where
// (reference_elementwise.cpp). The per-element math is scalar::unary_value /
// scalar::unary_derivative / scalar::binary_value from scalar_math.h, the same template the
// reference instantiates in double; here f32 is computed in float (f32 throughput is what a GPU
// is for), so transcendental results may differ from the reference in the last bits.
#include <string>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cuda {

namespace {

void unary_f32(UnaryOp op, const Buf& dst, const Buf& x, float a, float b) {
  const Indexer<2> ix = make_indexer<2>(dst.shape, {&dst.strides, &x.strides});
  float* out = dst.ptr<float>();
  const float* in = x.ptr<float>();
  // Each thread reads before it writes the same offset, so the exact in-place alias is safe.
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        int64_t o[2];
        ix.offsets(i, o);
        out[o[0]] = scalar::unary_value<float>(op, in[o[1]], a, b);
      },
      "unary");
}

void unary_backward_f32(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, float a, float b) {
  const Indexer<3> ix = make_indexer<3>(dx.shape, {&dx.strides, &x.strides, &dy.strides});
  float* out = dx.ptr<float>();
  const float* px = x.ptr<float>();
  const float* pdy = dy.ptr<float>();
  for_each_index(
      dx.numel(),
      [=] __device__(int64_t i) {
        int64_t o[3];
        ix.offsets(i, o);
        out[o[0]] = pdy[o[2]] * scalar::unary_derivative<float>(op, px[o[1]], a, b);
      },
      "unary_backward");
}

template <class T>
void binary_typed(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) {
  const Indexer<3> ix = make_indexer<3>(dst.shape, {&dst.strides, &x.strides, &y.strides});
  T* out = dst.ptr<T>();
  const T* px = x.ptr<T>();
  const T* py = y.ptr<T>();
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        int64_t o[3];
        ix.offsets(i, o);
        out[o[0]] = scalar::binary_value<T>(op, px[o[1]], py[o[2]]);
      },
      "binary");
}

template <class T, class C>
void where_typed(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) {
  const Indexer<4> ix =
      make_indexer<4>(dst.shape, {&dst.strides, &cond.strides, &x.strides, &y.strides});
  T* out = dst.ptr<T>();
  const C* pc = cond.ptr<C>();
  const T* px = x.ptr<T>();
  const T* py = y.ptr<T>();
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        int64_t o[4];
        ix.offsets(i, o);
        out[o[0]] = pc[o[1]] != C(0) ? px[o[2]] : py[o[3]];
      },
      "where");
}

}  // namespace

void CudaBackend::unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) {
  require_f32(std::string("unary(") + unary_name(op) + ")", x.dtype);
  unary_f32(op, dst, x, static_cast<float>(a), static_cast<float>(b));
}

void CudaBackend::unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                                 double b) {
  require_f32(std::string("unary_backward(") + unary_name(op) + ")", x.dtype);
  unary_backward_f32(op, dx, x, dy, static_cast<float>(a), static_cast<float>(b));
}

void CudaBackend::binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) {
  const std::string kernel = std::string("binary(") + binary_name(op) + ")";
  if (x.dtype == DType::f32) return binary_typed<float>(op, dst, x, y);
  // i64 gets comparisons and exact ring arithmetic; division and pow would need a rounding rule.
  if (x.dtype == DType::i64 && op != BinaryOp::div && op != BinaryOp::pow) {
    return binary_typed<int64_t>(op, dst, x, y);
  }
  reject_dtype(kernel, x.dtype);
}

void CudaBackend::where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) {
  if (dst.dtype == DType::f32 && cond.dtype == DType::f32) {
    return where_typed<float, float>(dst, cond, x, y);
  }
  if (dst.dtype == DType::f32 && cond.dtype == DType::i64) {
    return where_typed<float, int64_t>(dst, cond, x, y);
  }
  if (dst.dtype == DType::i64 && cond.dtype == DType::i64) {
    return where_typed<int64_t, int64_t>(dst, cond, x, y);
  }
  if (dst.dtype == DType::i64 && cond.dtype == DType::f32) {
    return where_typed<int64_t, float>(dst, cond, x, y);
  }
  reject_dtype("where", dst.dtype == DType::f64 ? dst.dtype : cond.dtype);
}

}  // namespace diffvi::cuda
