// Special functions: host series/recurrences plus thin autograd wrappers through record().
#include "diffvi/vi/distributions/special.h"

#include <cmath>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

double lgamma_host(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);  // the reentrant form: std::lgamma may write the global signgam
}

double digamma_host(double x) {
  if (std::isnan(x) || x == -INFINITY) return NAN;
  if (x <= 0 && std::floor(x) == x) return NAN;
  double result = 0;
  if (x < 0) {  // reflection: ψ(1 - x) - ψ(x) = π cot(πx)
    result -= M_PI / std::tan(M_PI * x);
    x = 1 - x;
  }
  // Recurrence ψ(x) = ψ(x + 1) - 1/x up to x >= 10, where the series' next term is < 1e-13.
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const double f = 1 / (x * x);
  // Asymptotic series: ln x - 1/(2x) - Σ B_2k / (2k x^2k).
  const double series =
      f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
  return result + std::log(x) - 0.5 / x - series;
}

double trigamma_host(double x) {
  if (std::isnan(x)) return NAN;
  if (x <= 0 && std::floor(x) == x) return NAN;
  double result = 0;
  if (x < 0) {  // reflection: ψ1(1 - x) + ψ1(x) = π² / sin²(πx)
    const double s = std::sin(M_PI * x);
    return -trigamma_host(1 - x) + M_PI * M_PI / (s * s);
  }
  while (x < 10) {
    result += 1 / (x * x);
    x += 1;
  }
  const double f = 1 / (x * x);
  // ψ1(x) ~ 1/x + 1/(2x²) + Σ B_2k / x^(2k+1).
  const double series =
      1 / x + f / 2 + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f * (1.0 / 30))));
  return result + series;
}

namespace {

// Applies fn elementwise on the host; the result has x's shape, dtype and device.
template <class Fn>
Tensor map_host(const Tensor& x, Fn fn) {
  Tensor c = raw::contiguous(raw::to(x, Device::cpu()));
  Tensor out = empty(c.shape(), TensorOptions(c.dtype()));
  const int64_t n = c.numel();
  if (c.dtype() == DType::f64) {
    const double* in = c.data<double>();
    double* o = out.data<double>();
    for (int64_t i = 0; i < n; ++i) o[i] = fn(in[i]);
  } else if (c.dtype() == DType::f32) {
    const float* in = c.data<float>();
    float* o = out.data<float>();
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(fn(static_cast<double>(in[i])));
  } else {
    throw DTypeError("special function: expected an f32 or f64 tensor, got " + describe(x));
  }
  return raw::to(out, x.device());
}

}  // namespace

Tensor trigamma(const Tensor& x) {
  return record("trigamma", map_host(x, trigamma_host), {}, nullptr);
}

Tensor digamma(const Tensor& x) {
  Tensor out = map_host(x, digamma_host);
  if (!needs_grad({&x})) return record("digamma", out, {}, nullptr);
  return record("digamma", out, {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {mul(g, trigamma(in[0]))};
                });
}

Tensor lgamma(const Tensor& x) {
  Tensor out = map_host(x, lgamma_host);
  if (!needs_grad({&x})) return record("lgamma", out, {}, nullptr);
  return record("lgamma", out, {x},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {mul(g, digamma(in[0]))};
                });
}

Tensor log_beta(const Tensor& a, const Tensor& b) {
  return sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)));
}

}  // namespace diffvi::vi
