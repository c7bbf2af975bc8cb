// Reference backend: reductions over axes (keepdim form) and the prefix sum.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

using strided::for_each_offset;

namespace {

// In double (float inputs convert); the definitions are shared with the CUDA kernels.
double nan_max(double acc, double v) { return scalar::nan_max(acc, v); }
double nan_min(double acc, double v) { return scalar::nan_min(acc, v); }

}  // namespace

void ReferenceBackend::reduce(ReduceOp op, const Buf& dst, const Buf& src) {
  strided::require_floating(std::string("reduce(") + reduce_name(op) + ")", src.dtype);
  if (dst.ndim() != src.ndim()) {
    throw ShapeError("reference backend: reduce(" + std::string(reduce_name(op)) + ") of " +
                     shape_str(src.shape) + " into " + shape_str(dst.shape) +
                     " needs the keepdim form");
  }
  // One double accumulator per dst element, laid out contiguously. Walking src's shape with
  // stride 0 on every dim where dst has extent 1 lands each src element on its accumulator.
  // Dims with extent 1 in both are harmless either way.
  const int64_t rank = src.ndim();
  Strides acc_strides = contiguous_strides(dst.shape);
  for (int64_t d = 0; d < rank; ++d) {
    if (dst.shape[d] == 1) acc_strides[d] = 0;
  }
  const size_t n_out = static_cast<size_t>(dst.numel());
  visit_floating(src.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = src.ptr<T>();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> acc;
    switch (op) {
      case ReduceOp::sum:
        acc.assign(n_out, 0.0);
        for_each_offset(
            src.shape, [&](int64_t oa, int64_t os) { acc[oa] += static_cast<double>(in[os]); },
            acc_strides, src.strides);
        break;
      case ReduceOp::max:
      case ReduceOp::min: {
        const bool is_max = op == ReduceOp::max;
        acc.assign(n_out, is_max ? -inf : inf);
        for_each_offset(
            src.shape,
            [&](int64_t oa, int64_t os) {
              const double v = static_cast<double>(in[os]);
              acc[oa] = is_max ? nan_max(acc[oa], v) : nan_min(acc[oa], v);
            },
            acc_strides, src.strides);
        break;
      }
      case ReduceOp::logsumexp: {
        std::vector<double> peak(n_out, -inf);
        for_each_offset(
            src.shape, [&](int64_t oa, int64_t os) { peak[oa] = nan_max(peak[oa], in[os]); },
            acc_strides, src.strides);
        acc.assign(n_out, 0.0);
        // An infinite (or NaN) peak is the answer itself: shifting by it would give inf - inf.
        for_each_offset(
            src.shape,
            [&](int64_t oa, int64_t os) {
              if (std::isfinite(peak[oa])) acc[oa] += std::exp(in[os] - peak[oa]);
            },
            acc_strides, src.strides);
        for (size_t i = 0; i < n_out; ++i) {
          acc[i] = std::isfinite(peak[i]) ? peak[i] + std::log(acc[i]) : peak[i];
        }
        break;
      }
    }
    T* out = dst.ptr<T>();
    const Strides dst_contig = contiguous_strides(dst.shape);
    for_each_offset(
        dst.shape, [&](int64_t od, int64_t oa) { out[od] = static_cast<T>(acc[oa]); }, dst.strides,
        dst_contig);
  });
}

void ReferenceBackend::cumsum(const Buf& dst, const Buf& src, int64_t axis) {
  strided::require_floating("cumsum", src.dtype);
  if (src.ndim() == 0) {  // a scalar is its own prefix sum
    copy(dst, src);
    return;
  }
  const size_t ax = static_cast<size_t>(axis);
  const int64_t n = src.shape[ax];
  // Walk every position except along `axis`, then run the prefix along it.
  Shape outer = src.shape;
  outer[ax] = 1;
  const int64_t sd = dst.strides[ax];
  const int64_t ss = src.strides[ax];
  visit_floating(src.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = src.ptr<T>();
    for_each_offset(
        outer,
        [&](int64_t od, int64_t os) {
          double acc = 0.0;
          for (int64_t k = 0; k < n; ++k) {
            acc += static_cast<double>(in[os + k * ss]);
            out[od + k * sd] = static_cast<T>(acc);
          }
        },
        dst.strides, src.strides);
  });
}

}  // namespace diffvi
