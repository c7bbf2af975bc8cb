// Elementwise kernels of the CPU backend: copy, fill, unary (forward and backward), binary and
// where, on any strides via the coalescing loop of cpu_loop.h. f32 values are computed in double
// with the one definition of each formula (scalar_math.h), as the reference does: on x86-64
// without FMA contraction that makes them bit-identical to the oracle, and the extra conversions
// are free next to memory traffic. Dense f32 unary ops that would need libm go first to oneDNN
// eltwise or xtensor/xsimd (cpu_eltwise.h), within the tests' 1e-5 parity tolerance instead of
// bit-identical.
#include <cmath>
#include <cstring>
#include <limits>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_eltwise.h"
#include "diffvi/backends/cpu/cpu_loop.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi {
namespace {

using cpu::LoopPlan;
using cpu::make_plan;

bool is_heavy(UnaryOp op) {
  switch (op) {
    case UnaryOp::identity:
    case UnaryOp::neg:
    case UnaryOp::abs:
    case UnaryOp::square:
    case UnaryOp::relu:
    case UnaryOp::add_scalar:
    case UnaryOp::mul_scalar:
    case UnaryOp::clamp:
    case UnaryOp::rsub_scalar:
    case UnaryOp::sign:
      return false;
    default:
      return true;
  }
}

// Runs the unary map with `f` (double -> double) on T storage.
template <class T, class F>
void unary_with(const LoopPlan<2>& p, T* out, const T* in, int64_t threshold, F f) {
  cpu::map1(
      p, out, in, [f](T v) { return static_cast<T>(f(static_cast<double>(v))); }, threshold);
}

// The op's formula is scalar::unary_value with a constant op (one loop per op, no per-element
// switch).
template <class T>
void unary_typed(UnaryOp op, const LoopPlan<2>& p, T* out, const T* in, double a, double b) {
  const int64_t th = is_heavy(op) ? cpu::kParallelThresholdHeavy : cpu::kParallelThreshold;
  scalar::with_unary_op(op, [&](auto k) {
    unary_with(p, out, in, th, [a, b](double x) {
      return scalar::unary_value<double>(decltype(k)::value, x, a, b);
    });
  });
}

// dx = dy * f'(x) with `d` (x -> f'(x)) in double.
template <class T, class D>
void backward_with(const LoopPlan<3>& p, T* dx, const T* x, const T* dy, int64_t threshold, D d) {
  cpu::map2(
      p, dx, x, dy,
      [d](T xv, T g) {
        return static_cast<T>(static_cast<double>(g) * d(static_cast<double>(xv)));
      },
      threshold);
}

template <class T>
void unary_backward_typed(UnaryOp op, const LoopPlan<3>& p, T* dx, const T* x, const T* dy,
                          double a, double b) {
  const int64_t th = is_heavy(op) ? cpu::kParallelThresholdHeavy : cpu::kParallelThreshold;
  scalar::with_unary_op(op, [&](auto k) {
    backward_with(p, dx, x, dy, th, [a, b](double v) {
      return scalar::unary_derivative<double>(decltype(k)::value, v, a, b);
    });
  });
}

// Through double, rounded once at the store, exactly as the reference does (a comparison or a
// NaN-propagating max/min of two exactly converted values is the same in either type).
template <class T>
void binary_typed(BinaryOp op, const LoopPlan<3>& p, T* out, const T* x, const T* y) {
  scalar::with_binary_op(op, [&](auto k) {
    cpu::map2(
        p, out, x, y,
        [](T u, T v) {
          return static_cast<T>(scalar::binary_value<double>(
              decltype(k)::value, static_cast<double>(u), static_cast<double>(v)));
        },
        cpu::kParallelThreshold);
  });
}

}  // namespace

void CpuBackend::copy(const Buf& dst, const Buf& src) {
  if (dst.dtype == src.dtype && cpu::is_dense(dst) && cpu::is_dense(src)) {
    const size_t elem = dtype_size(dst.dtype);
    char* out = static_cast<char*>(dst.data);
    const char* in = static_cast<const char*>(src.data);
    cpu::parallel_for(
        dst.numel(),
        [&](int64_t begin, int64_t end) {
          std::memcpy(out + begin * elem, in + begin * elem, (end - begin) * elem);
        },
        /*threshold=*/1 << 18);  // memcpy saturates one core's bandwidth until ~1 MB
    return;
  }
  LoopPlan<2> plan;
  const bool same = dst.dtype == src.dtype;
  const bool floats = is_floating(dst.dtype) && is_floating(src.dtype);
  if ((!same && !floats) || !make_plan<2>(dst.shape, {&dst.strides, &src.strides}, plan)) {
    ReferenceBackend::copy(dst, src);  // float <-> i64 conversion saturates; keep one definition
    return;
  }
  visit_dtype(dst.dtype, [&](auto d) {
    using TD = decltype(d);
    visit_dtype(src.dtype, [&](auto s) {
      using TS = decltype(s);
      if constexpr (std::is_same_v<TD, TS> ||
                    (std::is_floating_point_v<TD> && std::is_floating_point_v<TS>)) {
        cpu::map1(
            plan, dst.ptr<TD>(), src.ptr<TS>(), [](TS v) { return static_cast<TD>(v); },
            cpu::kParallelThreshold);
      }
    });
  });
}

void CpuBackend::fill(const Buf& dst, double value) {
  LoopPlan<1> plan;
  if (!make_plan<1>(dst.shape, {&dst.strides}, plan)) {
    ReferenceBackend::fill(dst, value);
    return;
  }
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    const T v = strided::convert<T>(value);
    cpu::map0(
        plan, dst.ptr<T>(), [v]() { return v; }, cpu::kParallelThreshold);
  });
}

void CpuBackend::unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) {
  // Dense f32 (dst is contiguous by contract, so a dense x walks in the same order): GELU's own
  // loop, oneDNN's JIT eltwise for the other transcendentals, xtensor/xsimd for the rest
  // (cpu_eltwise.h).
  if (x.dtype == DType::f32 && dst.dtype == DType::f32 && cpu::is_dense(x) && cpu::is_dense(dst)) {
    float* out = dst.ptr<float>();
    const float* in = x.ptr<float>();
    const int64_t n = dst.numel();
    if (op == UnaryOp::gelu_erf) {
      cpu::gelu_erf_f32(out, in, n);
      return;
    }
    if (cpu::dnnl_unary_f32(op, out, in, n, a, b) || cpu::simd_unary_f32(op, out, in, n, a, b)) {
      return;
    }
  }
  LoopPlan<2> plan;
  if (!is_floating(x.dtype) || dst.dtype != x.dtype ||
      !make_plan<2>(dst.shape, {&dst.strides, &x.strides}, plan)) {
    ReferenceBackend::unary(op, dst, x, a, b);
    return;
  }
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    unary_typed<T>(op, plan, dst.ptr<T>(), x.ptr<T>(), a, b);
  });
}

void CpuBackend::unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                                double b) {
  if (x.dtype == DType::f32 && dx.dtype == DType::f32 && dy.dtype == DType::f32 &&
      cpu::is_dense(x) && cpu::is_dense(dy) && cpu::is_dense(dx)) {
    float* out = dx.ptr<float>();
    const float *px = x.ptr<float>(), *pg = dy.ptr<float>();
    const int64_t n = dx.numel();
    if (op == UnaryOp::gelu_erf) {
      cpu::gelu_erf_backward_f32(out, px, pg, n);
      return;
    }
    if (cpu::dnnl_unary_backward_f32(op, out, px, pg, n, a, b) ||
        cpu::simd_unary_backward_f32(op, out, px, pg, n, a, b)) {
      return;
    }
  }
  LoopPlan<3> plan;
  if (!is_floating(x.dtype) || dx.dtype != x.dtype || dy.dtype != x.dtype ||
      !make_plan<3>(dx.shape, {&dx.strides, &x.strides, &dy.strides}, plan)) {
    ReferenceBackend::unary_backward(op, dx, x, dy, a, b);
    return;
  }
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    unary_backward_typed<T>(op, plan, dx.ptr<T>(), x.ptr<T>(), dy.ptr<T>(), a, b);
  });
}

void CpuBackend::binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) {
  LoopPlan<3> plan;
  if (!is_floating(x.dtype) || dst.dtype != x.dtype || y.dtype != x.dtype ||
      !make_plan<3>(dst.shape, {&dst.strides, &x.strides, &y.strides}, plan)) {
    ReferenceBackend::binary(op, dst, x, y);  // i64 keeps the reference's exact integer rules
    return;
  }
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    binary_typed<T>(op, plan, dst.ptr<T>(), x.ptr<T>(), y.ptr<T>());
  });
}

void CpuBackend::where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) {
  LoopPlan<4> plan;
  if (cond.dtype != dst.dtype || x.dtype != dst.dtype || y.dtype != dst.dtype ||
      !make_plan<4>(dst.shape, {&dst.strides, &cond.strides, &x.strides, &y.strides}, plan)) {
    ReferenceBackend::where(dst, cond, x, y);
    return;
  }
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    cpu::map3(
        plan, dst.ptr<T>(), cond.ptr<T>(), x.ptr<T>(), y.ptr<T>(),
        [](T c, T u, T v) { return c != T(0) ? u : v; }, cpu::kParallelThreshold);
  });
}

}  // namespace diffvi
