// Reference backend: batched matmul with transpose flags, and the fused linear layer.
#include <string>
#include <vector>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/host_views.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

void ReferenceBackend::matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x,
                              bool trans_w) {
  strided::require_floating("matmul", x.dtype);
  const MatView a = mat_view(x, trans_x, "reference backend", "x");
  const MatView b = mat_view(w, trans_w, "reference backend", "w");
  const MatView c = mat_view(dst, false, "reference backend", "dst");
  if (a.cols != b.rows || a.rows != c.rows || b.cols != c.cols ||
      (a.batch != 1 && a.batch != c.batch) || (b.batch != 1 && b.batch != c.batch)) {
    throw ShapeError("reference backend: matmul of " + shape_str(x.shape) + (trans_x ? "ᵀ" : "") +
                     " by " + shape_str(w.shape) + (trans_w ? "ᵀ" : "") + " into " +
                     shape_str(dst.shape));
  }
  const int64_t k_dim = a.cols;
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* pa = x.ptr<T>();
    const T* pb = w.ptr<T>();
    T* pc = dst.ptr<T>();
    for (int64_t bi = 0; bi < c.batch; ++bi) {
      for (int64_t i = 0; i < c.rows; ++i) {
        for (int64_t j = 0; j < c.cols; ++j) {
          double acc = 0.0;
          for (int64_t k = 0; k < k_dim; ++k) {
            acc += static_cast<double>(pa[bi * a.sb + i * a.sr + k * a.sc]) *
                   static_cast<double>(pb[bi * b.sb + k * b.sr + j * b.sc]);
          }
          pc[bi * c.sb + i * c.sr + j * c.sc] = static_cast<T>(acc);
        }
      }
    }
  });
}

void ReferenceBackend::linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
                              Activation act) {
  strided::require_floating("linear", x.dtype);
  if (x.ndim() != 2 || w.ndim() != 2 || dst.ndim() != 2 || x.shape[1] != w.shape[1] ||
      dst.shape[0] != x.shape[0] || dst.shape[1] != w.shape[0] ||
      (bias != nullptr && bias->numel() != w.shape[0])) {
    throw ShapeError(
        "reference backend: linear of " + shape_str(x.shape) + " by " + shape_str(w.shape) + "ᵀ" +
        (bias ? " + " + shape_str(bias->shape) : std::string()) + " into " + shape_str(dst.shape));
  }
  const int64_t m = x.shape[0], n = w.shape[0], k_dim = x.shape[1];
  const UnaryOp op = scalar::activation_op(act);
  const std::vector<int64_t> bias_off = bias ? strided::offsets(*bias) : std::vector<int64_t>{};
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* px = x.ptr<T>();
    const T* pw = w.ptr<T>();
    const T* pbias = bias ? bias->ptr<T>() : nullptr;
    T* out = dst.ptr<T>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int64_t k = 0; k < k_dim; ++k) {
          acc += static_cast<double>(px[i * x.strides[0] + k * x.strides[1]]) *
                 static_cast<double>(pw[j * w.strides[0] + k * w.strides[1]]);
        }
        if (pbias) acc += static_cast<double>(pbias[bias_off[j]]);
        out[i * dst.strides[0] + j * dst.strides[1]] =
            static_cast<T>(unary_value(op, acc, 0.0, 0.0));
      }
    }
  });
}

}  // namespace diffvi
