// Reference backend: unary maps, binary ops and where. The scalar definition of every op is in
// scalar_math.h (shared with the CUDA kernels).
#include <string>
#include <type_traits>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {

using strided::for_each_offset;

// The formulas live in scalar_math.h, shared with the CUDA kernels; the reference evaluates
// them in double.
double unary_value(UnaryOp op, double x, double a, double b) {
  return scalar::unary_value<double>(op, x, a, b);
}

double unary_derivative(UnaryOp op, double x, double a, double b) {
  return scalar::unary_derivative<double>(op, x, a, b);
}

void ReferenceBackend::unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) {
  strided::require_floating(std::string("unary(") + unary_name(op) + ")", x.dtype);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = x.ptr<T>();
    // Reading before writing at the same offset keeps the exact in-place alias safe.
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t ox) {
          out[od] = static_cast<T>(unary_value(op, static_cast<double>(in[ox]), a, b));
        },
        dst.strides, x.strides);
  });
}

void ReferenceBackend::unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy,
                                      double a, double b) {
  strided::require_floating(std::string("unary_backward(") + unary_name(op) + ")", x.dtype);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dx.ptr<T>();
    const T* px = x.ptr<T>();
    const T* pdy = dy.ptr<T>();
    for_each_offset(
        dx.shape,
        [&](int64_t od, int64_t ox, int64_t oy) {
          const double g = static_cast<double>(pdy[oy]);
          out[od] = static_cast<T>(g * unary_derivative(op, static_cast<double>(px[ox]), a, b));
        },
        dx.strides, x.strides, dy.strides);
  });
}

void ReferenceBackend::binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) {
  // i64 gets comparisons and exact ring arithmetic; division and pow would need a rounding rule.
  if (x.dtype == DType::i64 && (op == BinaryOp::div || op == BinaryOp::pow)) {
    strided::reject_dtype(std::string("binary(") + binary_name(op) + ")", x.dtype);
  }
  visit_dtype(x.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* px = x.ptr<T>();
    const T* py = y.ptr<T>();
    // f32 arithmetic goes through double (one rounding, at the store); comparisons are exact
    // either way since float -> double is exact.
    using Math = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t ox, int64_t oy) {
          const Math r =
              scalar::binary_value<Math>(op, static_cast<Math>(px[ox]), static_cast<Math>(py[oy]));
          out[od] = static_cast<T>(r);
        },
        dst.strides, x.strides, y.strides);
  });
}

void ReferenceBackend::where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) {
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    visit_dtype(cond.dtype, [&](auto c) {
      using C = decltype(c);
      T* out = dst.ptr<T>();
      const C* pc = cond.ptr<C>();
      const T* px = x.ptr<T>();
      const T* py = y.ptr<T>();
      for_each_offset(
          dst.shape,
          [&](int64_t od, int64_t oc, int64_t ox, int64_t oy) {
            out[od] = pc[oc] != C(0) ? px[ox] : py[oy];
          },
          dst.strides, cond.strides, x.strides, y.strides);
    });
  });
}

}  // namespace diffvi
