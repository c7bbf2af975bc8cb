#include "diffvi/nn/init.h"

#include <cmath>
#include <vector>

#include "diffvi/tensor/ops.h"

namespace diffvi::nn::init {
namespace {

// Inverse of the standard normal CDF: Acklam's rational approximation refined by one Halley step
// (relative error ~1e-15).
double normal_ppf(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  double x;
  if (p < lo) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

void check_defined(const Tensor& t, const char* op) {
  if (!t.defined()) throw ValueError(std::string(op) + ": undefined tensor");
  if (!is_floating(t.dtype())) {
    throw DTypeError(std::string(op) + ": needs a floating tensor, got " + describe(t));
  }
}

double fan_for(const Tensor& t, FanMode mode) {
  const auto [in, out] = fans(t);
  return static_cast<double>(mode == FanMode::fan_in ? in : out);
}

}  // namespace

std::pair<int64_t, int64_t> fans(const Tensor& t) {
  if (t.dim() == 1) return {t.size(0), t.size(0)};
  if (t.dim() < 2) {
    throw ValueError("init: fan in/out need a tensor of rank >= 1, got " + describe(t));
  }
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::relu:
      return std::sqrt(2.0);
    case Nonlinearity::leaky_relu:
      return std::sqrt(2.0 / (1 + param * param));
    case Nonlinearity::tanh:
      return 5.0 / 3.0;
    default:
      return 1.0;
  }
}

void zeros_(const Tensor& t) { constant_(t, 0.0); }
void ones_(const Tensor& t) { constant_(t, 1.0); }
void constant_(const Tensor& t, double value) {
  check_defined(t, "constant_");
  raw::fill_(t, value);
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  check_defined(t, "uniform_");
  raw::random_(t, Distribution::uniform, low, high, gen);
}

void normal_(const Tensor& t, double mean, double std, Generator& gen) {
  check_defined(t, "normal_");
  raw::random_(t, Distribution::normal, mean, std, gen);
}

void trunc_normal_(const Tensor& t, double mean, double std, double a, double b, Generator& gen) {
  check_defined(t, "trunc_normal_");
  if (!(std > 0) || !(a < b)) {
    throw ValueError("trunc_normal_: need std > 0 and a < b, got std=" + std::to_string(std) +
                     ", a=" + std::to_string(a) + ", b=" + std::to_string(b));
  }
  // Draw u ~ U(0,1) on the host in f64, map to U(cdf(a), cdf(b)) and invert the CDF.
  Tensor u = empty(t.shape(), TensorOptions(DType::f64));
  raw::random_(u, Distribution::uniform, 0.0, 1.0, gen);
  const double lo = normal_cdf((a - mean) / std), hi = normal_cdf((b - mean) / std);
  std::vector<double> v = u.to_vector<double>();
  for (double& x : v) {
    const double z = normal_ppf(lo + (hi - lo) * x);
    x = std::min(std::max(mean + std * z, a), b);
  }
  raw::copy_(t, raw::to(from_vector(v, t.shape(), TensorOptions(t.dtype())), t.device()));
}

void kaiming_uniform_(const Tensor& t, double a, Generator& gen, FanMode mode,
                      Nonlinearity nonlinearity) {
  check_defined(t, "kaiming_uniform_");
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / fan_for(t, mode));
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, Generator& gen, FanMode mode,
                     Nonlinearity nonlinearity) {
  check_defined(t, "kaiming_normal_");
  normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan_for(t, mode)), gen);
}

void xavier_uniform_(const Tensor& t, Generator& gen, double gain) {
  check_defined(t, "xavier_uniform_");
  const auto [in, out] = fans(t);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, Generator& gen, double gain) {
  check_defined(t, "xavier_normal_");
  const auto [in, out] = fans(t);
  normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

void default_linear_init_(const Tensor& weight, const Tensor& bias, Generator& gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias.defined()) {
    const double fan_in = static_cast<double>(fans(weight).first);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(fan_in) : 0.0;
    uniform_(bias, -bound, bound, gen);
  }
}

}  // namespace diffvi::nn::init
