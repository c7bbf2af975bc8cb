// Distribution base: defaults that raise, validation state and shared helpers.
#include "diffvi/vi/distributions/distribution.h"

#include <cmath>
#include <sstream>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

Param::Param(double v) : t(scalar_tensor(v, TensorOptions(DType::f64))) {}
Param::Param(const Tensor& v) : t(v) {
  if (!v.defined()) throw ValueError("distribution parameter: undefined tensor");
}

std::string Support::str() const {
  switch (kind) {
    case Kind::real:
      return "real";
    case Kind::positive:
      return "positive";
    case Kind::unit_interval:
      return "unit_interval";
    case Kind::interval: {
      std::ostringstream os;
      os << "interval(" << lower << ", " << upper << ")";
      return os.str();
    }
    case Kind::real_vector:
      return "real_vector";
    case Kind::integer:
      return "integer";
  }
  return "?";
}

void Distribution::unsupported(const std::string& what) const {
  throw ValueError(name() + ": " + what + " is not available for this distribution");
}

Tensor Distribution::rsample(const Shape&, Generator&) const {
  unsupported("rsample (a reparameterised draw)");
}

Tensor Distribution::sample(const Shape& sample_shape, Generator& gen) const {
  NoGradGuard no_grad;
  return rsample(sample_shape, gen);
}

Tensor Distribution::mean() const { unsupported("a closed-form mean"); }
Tensor Distribution::variance() const { unsupported("a closed-form variance"); }
Tensor Distribution::entropy() const { unsupported("a closed-form entropy"); }
Tensor Distribution::stddev() const { return sqrt(variance()); }

namespace {
thread_local bool g_validate = true;
}  // namespace

bool validation_enabled() { return g_validate; }
ValidationGuard::ValidationGuard(bool enabled) : previous_(g_validate) { g_validate = enabled; }
ValidationGuard::~ValidationGuard() { g_validate = previous_; }

namespace detail {

Tensor scalar(double v) { return scalar_tensor(v, TensorOptions(DType::f64)); }

Tensor cast_like(const Tensor& p, const Tensor& like) {
  return p.dtype() == like.dtype() ? p : to(p, like.dtype());
}

DType param_dtype(std::initializer_list<const Tensor*> params) {
  for (const Tensor* p : params) {
    if (p->defined() && p->dim() > 0) return p->dtype();
  }
  for (const Tensor* p : params) {
    if (p->defined() && p->dtype() == DType::f32) return DType::f32;
  }
  return DType::f64;
}

namespace {
std::vector<double> host_values(const Tensor& t) {
  NoGradGuard no_grad;
  return t.to_vector<double>();
}
}  // namespace

void check_positive(const std::string& dist, const char* arg, const Tensor& t) {
  if (!g_validate) return;
  for (double v : host_values(t)) {
    if (!(v > 0)) {
      std::ostringstream os;
      os << dist << ": " << arg << " must be positive, got " << v;
      throw ValueError(os.str());
    }
  }
}

void check_range(const std::string& dist, const char* arg, const Tensor& t, double lo, double hi) {
  if (!g_validate) return;
  for (double v : host_values(t)) {
    if (!(v >= lo && v <= hi)) {
      std::ostringstream os;
      os << dist << ": " << arg << " must lie in [" << lo << ", " << hi << "], got " << v;
      throw ValueError(os.str());
    }
  }
}

Shape broadcast_all(std::initializer_list<const Tensor*> params) {
  Shape s;
  for (const Tensor* p : params) s = broadcast_shapes(s, p->shape(), "distribution parameters");
  return s;
}

Tensor std_normal(const Shape& shape, Generator& gen, DType dtype) {
  return randn(shape, gen, TensorOptions(dtype));
}

Tensor std_uniform(const Shape& shape, Generator& gen, DType dtype) {
  return rand(shape, gen, TensorOptions(dtype));
}

Shape concat(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

}  // namespace detail
}  // namespace diffvi::vi
