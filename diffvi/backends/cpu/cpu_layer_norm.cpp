// Layer norm of the CPU backend for dense f32 rows: row loops that GCC vectorises (built for
// AVX-512, AVX2 and baseline x86-64 by target_clones), rows split over the OpenMP team. oneDNN
// 2.6's primitive took ~1 ns an element forward and backward on the workload shapes
// ([512, 64] .. [128, 1024], bench_ops), and its backward needed the variance rebuilt from rstd
// and a separate pass for dbeta; here each row is read twice forward and twice backward, and
// dgamma/dbeta accumulate in the same pass as dx. f64 and other layouts use the reference.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

constexpr int kLanes = 16;  // partial sums kept per row: one AVX-512 register of floats

// The sum of the partial sums as a tree (halves added pairwise), which vectorises to a few
// shuffles instead of a 16-long chain of dependent scalar adds.
[[gnu::always_inline]] inline float fold(float (&acc)[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  }
  return acc[0];
}

// Σ f(c) over c < n with kLanes independent partial sums, so the loop vectorises without
// reassociation flags (GCC turns the fixed-width inner loop into vector adds). (An OpenMP simd
// reduction did the same in theory, but GCC 12 spilled its per-lane copies to the stack.)
template <class F>
[[gnu::always_inline]] inline float row_sum(int64_t n, F f) {
  float acc[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
    for (int l = 0; l < kLanes; ++l) acc[l] += f(c + l);
  }
  float s = 0;
  for (; c < n; ++c) s += f(c);
  return s + fold(acc);
}

// Two sums in one pass: {Σ f(c).first, Σ f(c).second}.
template <class F>
[[gnu::always_inline]] inline void row_sum2(int64_t n, F f, float& s1, float& s2) {
  float a1[kLanes] = {}, a2[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const auto [v1, v2] = f(c + l);
      a1[l] += v1;
      a2[l] += v2;
    }
  }
  s1 = s2 = 0;
  for (; c < n; ++c) {
    const auto [v1, v2] = f(c);
    s1 += v1;
    s2 += v2;
  }
  s1 += fold(a1);
  s2 += fold(a2);
}

// Rows [r0, r1) of y = (x − mean) rstd γ + β; writes each row's mean and rstd = 1/sqrt(var + eps)
// (biased variance, two passes so there is no E[x²] − E[x]² cancellation).
DIFFVI_CPU_CLONES void forward_rows(const float* x, float* y, float* mean, float* rstd,
                                    const float* gamma, const float* beta, int64_t r0, int64_t r1,
                                    int64_t cols, double eps) {
  const float inv_cols = 1.0f / static_cast<float>(cols);
  const float feps = static_cast<float>(eps);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float mu = row_sum(cols, [&](int64_t c) { return xr[c]; }) * inv_cols;
    const float sq = row_sum(cols, [&](int64_t c) { return (xr[c] - mu) * (xr[c] - mu); });
    const float rs = 1.0f / std::sqrt(sq * inv_cols + feps);
    if (gamma && beta) {
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
    } else if (gamma) {
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs * gamma[c];
    } else if (beta) {
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs + beta[c];
    } else {
      for (int64_t c = 0; c < cols; ++c) yr[c] = (xr[c] - mu) * rs;
    }
    mean[r] = mu;
    rstd[r] = rs;
  }
}

// Rows [r0, r1) of dx = rstd (g − mean(g) − x̂ mean(g x̂)) with x̂ = (x − mean) rstd and
// g = dy γ; adds Σ dy x̂ and Σ dy over these rows into dg and db when they are non-null.
DIFFVI_CPU_CLONES void backward_rows(const float* x, const float* dy, float* dx, const float* mean,
                                     const float* rstd, const float* gamma, float* dg, float* db,
                                     int64_t r0, int64_t r1, int64_t cols) {
  const float inv_cols = 1.0f / static_cast<float>(cols);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    const float mu = mean[r], rs = rstd[r];
    float sum_g, sum_gx;
    if (gamma) {
      row_sum2(
          cols,
          [&](int64_t c) {
            const float g = dyr[c] * gamma[c];
            return std::pair<float, float>(g, g * ((xr[c] - mu) * rs));
          },
          sum_g, sum_gx);
    } else {
      row_sum2(
          cols,
          [&](int64_t c) { return std::pair<float, float>(dyr[c], dyr[c] * ((xr[c] - mu) * rs)); },
          sum_g, sum_gx);
    }
    const float a = sum_g * inv_cols, b = sum_gx * inv_cols;
    if (gamma) {
      for (int64_t c = 0; c < cols; ++c) {
        dxr[c] = rs * (dyr[c] * gamma[c] - a - ((xr[c] - mu) * rs) * b);
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) dxr[c] = rs * (dyr[c] - a - ((xr[c] - mu) * rs) * b);
    }
    if (dg) {
      for (int64_t c = 0; c < cols; ++c) dg[c] += dyr[c] * ((xr[c] - mu) * rs);
    }
    if (db) {
      for (int64_t c = 0; c < cols; ++c) db[c] += dyr[c];
    }
  }
}

const float* data_or_null(const Buf* b) { return b ? b->ptr<float>() : nullptr; }

// The team size for a [rows, cols] pass: one thread below the usual threshold.
int team_for(int64_t rows, int64_t cols) {
  if (rows * cols < cpu::kParallelThreshold || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), rows));
}

}  // namespace

void CpuBackend::layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                            const Buf* gamma, const Buf* beta, double eps) {
  int64_t rows, cols, r2, c2;
  if (!cpu::dense_rows(x, rows, cols) || !cpu::dense_rows(y, r2, c2) || r2 != rows || c2 != cols ||
      !cpu::dense_vec(&mean, rows) || !cpu::dense_vec(&rstd, rows) ||
      !cpu::dense_vec(gamma, cols) || !cpu::dense_vec(beta, cols)) {
    ReferenceBackend::layer_norm(y, mean, rstd, x, gamma, beta, eps);
    return;
  }
  const float *px = x.ptr<float>(), *pg = data_or_null(gamma), *pb = data_or_null(beta);
  float *py = y.ptr<float>(), *pm = mean.ptr<float>(), *pr = rstd.ptr<float>();
  const int team = team_for(rows, cols);
  if (team == 1) {
    forward_rows(px, py, pm, pr, pg, pb, 0, rows, cols, eps);
    return;
  }
#pragma omp parallel num_threads(team)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    forward_rows(px, py, pm, pr, pg, pb, rows * t / nt, rows * (t + 1) / nt, cols, eps);
  }
}

void CpuBackend::layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta,
                                     const Buf& dy, const Buf& x, const Buf& mean, const Buf& rstd,
                                     const Buf* gamma) {
  int64_t rows, cols, r2, c2, r3, c3;
  if (!cpu::dense_rows(x, rows, cols) || !cpu::dense_rows(dx, r2, c2) ||
      !cpu::dense_rows(dy, r3, c3) || r2 != rows || r3 != rows || c2 != cols || c3 != cols ||
      !cpu::dense_vec(&mean, rows) || !cpu::dense_vec(&rstd, rows) ||
      !cpu::dense_vec(gamma, cols) || !cpu::dense_vec(dgamma, cols) ||
      !cpu::dense_vec(dbeta, cols)) {
    ReferenceBackend::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma);
    return;
  }
  const float *px = x.ptr<float>(), *pdy = dy.ptr<float>(), *pm = mean.ptr<float>(),
              *pr = rstd.ptr<float>(), *pg = data_or_null(gamma);
  float* pdx = dx.ptr<float>();
  float* dg = dgamma ? dgamma->ptr<float>() : nullptr;
  float* db = dbeta ? dbeta->ptr<float>() : nullptr;
  const int team = team_for(rows, cols);
  if (team == 1) {
    if (dg) std::fill(dg, dg + cols, 0.0f);
    if (db) std::fill(db, db + cols, 0.0f);
    backward_rows(px, pdy, pdx, pm, pr, pg, dg, db, 0, rows, cols);
    return;
  }
  // Each thread sums its rows' dgamma/dbeta into its own slice; the slices are added after.
  std::vector<float> partial(dg || db ? static_cast<size_t>(team) * 2 * cols : 0, 0.0f);
#pragma omp parallel num_threads(team)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    float* my_dg = dg ? partial.data() + t * 2 * cols : nullptr;
    float* my_db = db ? partial.data() + t * 2 * cols + cols : nullptr;
    backward_rows(px, pdy, pdx, pm, pr, pg, my_dg, my_db, rows * t / nt, rows * (t + 1) / nt, cols);
  }
  if (!dg && !db) return;  // GroupNorm's normalisation asks for dx alone: no slices to add
  for (int64_t c = 0; c < cols; ++c) {
    float sg = 0, sb = 0;
    for (int t = 0; t < team; ++t) {
      sg += partial[static_cast<size_t>(t * 2 * cols + c)];
      sb += partial[static_cast<size_t>(t * 2 * cols + cols + c)];
    }
    if (dg) dg[c] = sg;
    if (db) db[c] = sb;
  }
}

}  // namespace diffvi
