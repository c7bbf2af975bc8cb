// Reference backend: row-wise softmax / log-softmax and layer norm, forward and backward.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/host_views.h"

namespace diffvi {

namespace {

// Element i of a small 1-D operand (gamma, mean, ...) as a double; 1 when absent.
template <class T>
struct VecRead {
  const T* data = nullptr;
  std::vector<int64_t> off;
  explicit VecRead(const Buf* b) {
    if (b) {
      data = b->ptr<T>();
      off = strided::offsets(*b);
    }
  }
  double operator()(int64_t i, double absent) const {
    return data ? static_cast<double>(data[off[static_cast<size_t>(i)]]) : absent;
  }
};

}  // namespace

void ReferenceBackend::softmax(const Buf& dst, const Buf& x, bool log) {
  strided::require_floating(log ? "log_softmax" : "softmax", x.dtype);
  const RowView vx = row_view(x), vd = row_view(dst);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = x.ptr<T>();
    T* out = dst.ptr<T>();
    std::vector<double> row(static_cast<size_t>(vx.cols));
    for (int64_t r = 0; r < vx.rows; ++r) {
      double peak = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < vx.cols; ++c) {
        row[c] = static_cast<double>(in[r * vx.sr + c * vx.sc]);
        peak = std::isnan(row[c]) || row[c] > peak ? row[c] : peak;
      }
      // Shifting by the max keeps exp in range. A row of all -inf yields NaN, as in PyTorch.
      double total = 0.0;
      for (int64_t c = 0; c < vx.cols; ++c) total += std::exp(row[c] - peak);
      const double log_total = std::log(total);
      for (int64_t c = 0; c < vx.cols; ++c) {
        const double v = log ? row[c] - peak - log_total : std::exp(row[c] - peak) / total;
        out[r * vd.sr + c * vd.sc] = static_cast<T>(v);
      }
    }
  });
}

void ReferenceBackend::softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) {
  strided::require_floating(log ? "log_softmax_backward" : "softmax_backward", y.dtype);
  const RowView vdx = row_view(dx), vy = row_view(y), vdy = row_view(dy);
  visit_floating(y.dtype, [&](auto t) {
    using T = decltype(t);
    const T* py = y.ptr<T>();
    const T* pdy = dy.ptr<T>();
    T* out = dx.ptr<T>();
    for (int64_t r = 0; r < vy.rows; ++r) {
      auto yv = [&](int64_t c) { return static_cast<double>(py[r * vy.sr + c * vy.sc]); };
      auto gv = [&](int64_t c) { return static_cast<double>(pdy[r * vdy.sr + c * vdy.sc]); };
      // softmax: dx = y (dy - sum(dy y));  log-softmax: dx = dy - exp(y) sum(dy).
      double s = 0.0;
      for (int64_t c = 0; c < vy.cols; ++c) s += log ? gv(c) : gv(c) * yv(c);
      for (int64_t c = 0; c < vy.cols; ++c) {
        const double v = log ? gv(c) - std::exp(yv(c)) * s : yv(c) * (gv(c) - s);
        out[r * vdx.sr + c * vdx.sc] = static_cast<T>(v);
      }
    }
  });
}

void ReferenceBackend::layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                                  const Buf* gamma, const Buf* beta, double eps) {
  strided::require_floating("layer_norm", x.dtype);
  const RowView vx = row_view(x), vy = row_view(y);
  const std::vector<int64_t> mean_off = strided::offsets(mean);
  const std::vector<int64_t> rstd_off = strided::offsets(rstd);
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* in = x.ptr<T>();
    T* out = y.ptr<T>();
    const VecRead<T> g(gamma), b(beta);
    for (int64_t r = 0; r < vx.rows; ++r) {
      auto xv = [&](int64_t c) { return static_cast<double>(in[r * vx.sr + c * vx.sc]); };
      // Two passes (mean, then squared deviations): no cancellation from E[x^2] - E[x]^2.
      double mu = 0.0;
      for (int64_t c = 0; c < vx.cols; ++c) mu += xv(c);
      mu /= static_cast<double>(vx.cols);
      double var = 0.0;
      for (int64_t c = 0; c < vx.cols; ++c) var += (xv(c) - mu) * (xv(c) - mu);
      var /= static_cast<double>(vx.cols);
      const double rs = 1.0 / std::sqrt(var + eps);
      for (int64_t c = 0; c < vx.cols; ++c) {
        out[r * vy.sr + c * vy.sc] = static_cast<T>((xv(c) - mu) * rs * g(c, 1.0) + b(c, 0.0));
      }
      mean.ptr<T>()[mean_off[r]] = static_cast<T>(mu);
      rstd.ptr<T>()[rstd_off[r]] = static_cast<T>(rs);
    }
  });
}

void ReferenceBackend::layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta,
                                           const Buf& dy, const Buf& x, const Buf& mean,
                                           const Buf& rstd, const Buf* gamma) {
  strided::require_floating("layer_norm_backward", x.dtype);
  const RowView vdx = row_view(dx), vdy = row_view(dy), vx = row_view(x);
  const int64_t rows = vx.rows, cols = vx.cols;
  visit_floating(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T* px = x.ptr<T>();
    const T* pdy = dy.ptr<T>();
    T* out = dx.ptr<T>();
    const VecRead<T> g(gamma), mu_of(&mean), rs_of(&rstd);
    std::vector<double> dg(static_cast<size_t>(cols), 0.0), db(static_cast<size_t>(cols), 0.0);
    std::vector<double> xhat(static_cast<size_t>(cols)), gy(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      const double mu = mu_of(r, 0.0), rs = rs_of(r, 1.0);
      // With xhat = (x - mu) rstd and g = dy * gamma:
      //   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
      double mean_g = 0.0, mean_gx = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        const double d = static_cast<double>(pdy[r * vdy.sr + c * vdy.sc]);
        xhat[c] = (static_cast<double>(px[r * vx.sr + c * vx.sc]) - mu) * rs;
        gy[c] = d * g(c, 1.0);
        mean_g += gy[c];
        mean_gx += gy[c] * xhat[c];
        dg[c] += d * xhat[c];
        db[c] += d;
      }
      mean_g /= static_cast<double>(cols);
      mean_gx /= static_cast<double>(cols);
      for (int64_t c = 0; c < cols; ++c) {
        out[r * vdx.sr + c * vdx.sc] = static_cast<T>(rs * (gy[c] - mean_g - xhat[c] * mean_gx));
      }
    }
    auto store = [&](const Buf* b, const std::vector<double>& v) {
      if (!b) return;
      const std::vector<int64_t> off = strided::offsets(*b);
      for (int64_t c = 0; c < cols; ++c) b->ptr<T>()[off[c]] = static_cast<T>(v[c]);
    };
    store(dgamma, dg);
    store(dbeta, db);
  });
}

}  // namespace diffvi
