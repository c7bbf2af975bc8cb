// MultivariateNormal, plus the triangular solve and Cholesky it needs.
#include "diffvi/vi/distributions/multivariate_normal.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;

std::vector<double> host(const Tensor& t) {
  NoGradGuard no_grad;
  return t.to_vector<double>();
}

// Row-wise forward substitution: y_r = L⁻¹ b_r (rows of length d).
void forward_subst(const std::vector<double>& L, std::vector<double>& y, int64_t d) {
  for (size_t r = 0; r * d < y.size(); ++r) {
    double* v = y.data() + r * d;
    for (int64_t i = 0; i < d; ++i) {
      double acc = v[i];
      for (int64_t j = 0; j < i; ++j) acc -= L[i * d + j] * v[j];
      v[i] = acc / L[i * d + i];
    }
  }
}

// Row-wise back substitution with Lᵀ: u_r = L⁻ᵀ g_r.
void back_subst_transposed(const std::vector<double>& L, std::vector<double>& u, int64_t d) {
  for (size_t r = 0; r * d < u.size(); ++r) {
    double* v = u.data() + r * d;
    for (int64_t i = d - 1; i >= 0; --i) {
      double acc = v[i];
      for (int64_t j = i + 1; j < d; ++j) acc -= L[j * d + i] * v[j];
      v[i] = acc / L[i * d + i];
    }
  }
}
}  // namespace

Tensor solve_lower_triangular(const Tensor& L, const Tensor& b) {
  if (L.dim() != 2 || L.size(0) != L.size(1) || b.dim() < 1 || b.size(-1) != L.size(0)) {
    throw ShapeError("solve_lower_triangular: expected L [d, d] and b [..., d], got " +
                     describe(L) + " and " + describe(b));
  }
  if (L.dtype() != b.dtype()) {
    throw DTypeError("solve_lower_triangular: dtype mismatch, " + describe(L) + " and " +
                     describe(b));
  }
  const int64_t d = L.size(0);
  const std::vector<double> lv = host(L);
  std::vector<double> y = host(b);
  forward_subst(lv, y, d);
  Tensor out = from_vector(y, b.shape(), TensorOptions(b.dtype()));
  if (!needs_grad({&L, &b})) return record("solve_lower_triangular", out, {}, nullptr);
  return record("solve_lower_triangular", out, {L, b},
                [lv, d](const TensorList&, const Tensor& g, const Tensor& y_t) -> TensorList {
                  std::vector<double> u = host(g);
                  back_subst_transposed(lv, u, d);  // gB = L⁻ᵀ gY
                  const std::vector<double> yv = host(y_t);
                  std::vector<double> gl(d * d, 0.0);  // gL = -Σ_r u_r y_rᵀ, lower part
                  for (size_t r = 0; r * d < u.size(); ++r) {
                    for (int64_t i = 0; i < d; ++i) {
                      for (int64_t j = 0; j <= i; ++j) {
                        gl[i * d + j] -= u[r * d + i] * yv[r * d + j];
                      }
                    }
                  }
                  const TensorOptions opt(g.dtype());
                  return {from_vector(gl, {d, d}, opt), from_vector(u, g.shape(), opt)};
                });
}

Tensor diagonal(const Tensor& m) {
  return sum(mul(m, eye(m.size(-1), TensorOptions(m.dtype()))), {-1});
}

Tensor cholesky(const Tensor& a) {
  if (a.dim() != 2 || a.size(0) != a.size(1)) {
    throw ShapeError("cholesky: expected a square matrix, got " + describe(a));
  }
  const int64_t d = a.size(0);
  std::vector<double> m = host(a), l(d * d, 0.0);
  for (int64_t j = 0; j < d; ++j) {
    for (int64_t i = j; i < d; ++i) {
      if (std::abs(m[i * d + j] - m[j * d + i]) > 1e-8 * (1 + std::abs(m[i * d + j]))) {
        throw ValueError("cholesky: matrix is not symmetric");
      }
      double s = m[i * d + j];
      for (int64_t k = 0; k < j; ++k) s -= l[i * d + k] * l[j * d + k];
      if (i == j) {
        if (!(s > 0)) throw ValueError("cholesky: matrix is not positive definite");
        l[j * d + j] = std::sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  }
  return from_vector(l, {d, d}, TensorOptions(a.dtype()));
}

MultivariateNormal::MultivariateNormal(Param loc, const Tensor& scale_tril) {
  const std::string n = name();
  if (scale_tril.dim() != 2 || scale_tril.size(0) != scale_tril.size(1)) {
    throw ValueError(n + ": scale_tril must be a square matrix [d, d], got " +
                     describe(scale_tril));
  }
  const DType dt = detail::param_dtype({&scale_tril, &loc.t});
  scale_tril_ = to(scale_tril, dt);
  loc_ = to(loc.t, dt);
  const int64_t d = scale_tril.size(0);
  if (loc_.dim() == 0) loc_ = broadcast_to(loc_, {d});
  if (loc_.size(-1) != d) {
    throw ValueError(n + ": loc " + describe(loc_) + " must end in d = " + std::to_string(d));
  }
  if (validation_enabled()) {
    const std::vector<double> l = host(scale_tril_);
    for (int64_t i = 0; i < d; ++i) {
      for (int64_t j = i + 1; j < d; ++j) {
        if (l[i * d + j] != 0) throw ValueError(n + ": scale_tril must be lower triangular");
      }
      if (!(l[i * d + i] > 0)) {
        std::ostringstream os;
        os << n << ": scale_tril must have a positive diagonal, got " << l[i * d + i];
        throw ValueError(os.str());
      }
    }
  }
}

MultivariateNormal MultivariateNormal::from_covariance(Param loc, const Tensor& covariance) {
  return MultivariateNormal(std::move(loc), cholesky(covariance));
}

Shape MultivariateNormal::batch_shape() const {
  Shape s = loc_.shape();
  s.pop_back();
  return s;
}

Tensor MultivariateNormal::log_prob(const Tensor& value) const {
  Tensor L = detail::cast_like(scale_tril_, value);
  Tensor diff = sub(value, detail::cast_like(loc_, value));
  Tensor y = solve_lower_triangular(L, contiguous(diff));
  Tensor half_log_det = sum(log(diagonal(L)));
  return sub(mul(sum(square(y), {-1}), -0.5), add(half_log_det, 0.5 * dim() * kLog2Pi));
}

Tensor MultivariateNormal::rsample(const Shape& sample_shape, Generator& gen) const {
  Shape shape = detail::concat(sample_shape, batch_shape());
  shape.push_back(dim());
  Tensor eps = detail::std_normal(shape, gen, loc_.dtype());
  return add(loc_, matmul(eps, transpose(scale_tril_, 0, 1)));
}

Tensor MultivariateNormal::mean() const { return loc_; }
Tensor MultivariateNormal::variance() const {
  return broadcast_to(sum(square(scale_tril_), {-1}), loc_.shape());
}
Tensor MultivariateNormal::covariance() const {
  return matmul(scale_tril_, transpose(scale_tril_, 0, 1));
}
Tensor MultivariateNormal::entropy() const {
  Tensor h = add(sum(log(diagonal(scale_tril_))), 0.5 * dim() * (1 + kLog2Pi));
  return broadcast_to(h, batch_shape());
}

}  // namespace diffvi::vi
