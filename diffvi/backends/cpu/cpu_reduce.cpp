// Reductions of the CPU backend. A dense source whose reduced dims form one block is viewed as
// [outer, red, inner]: inner == 1 is a row reduction (mean over the last dim, logsumexp), and
// inner > 1 a column reduction (bias gradients: sum over the batch dim), vectorised along the
// kept columns. Accumulation is in double, as in the reference; NaN propagates through max, min
// and logsumexp. Every other layout goes to the reference.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Blocks {
  int64_t outer = 1, red = 1, inner = 1;
};

// False unless src and dst are dense and the reduced dims are one block.
bool block_view(const Buf& dst, const Buf& src, Blocks& b) {
  if (dst.ndim() != src.ndim() || !cpu::is_dense(dst) || !cpu::is_dense(src)) return false;
  int phase = 0;  // 0: before the reduced block, 1: inside it, 2: after it
  for (int64_t d = 0; d < src.ndim(); ++d) {
    const int64_t n = src.shape[d];
    if (n == 1) continue;
    const bool reduced = dst.shape[d] == 1;
    if (reduced && phase == 2) return false;
    if (reduced) phase = 1;
    if (!reduced && phase == 1) phase = 2;
    (phase == 0 ? b.outer : phase == 1 ? b.red : b.inner) *= n;
  }
  return phase != 0 && b.red > 0 && b.outer * b.inner > 0;
}

// Max (or min, with sign = -1) of a row, NaN if any element is NaN.
template <class T>
double row_extreme(const T* row, int64_t n, double sign) {
  double m = -kInf;
  int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
  for (int64_t i = 0; i < n; ++i) {
    const double v = sign * static_cast<double>(row[i]);
    m = v > m ? v : m;
    nan |= v != v;
  }
  return nan ? kNaN : sign * m;
}

template <class T>
double row_sum(const T* row, int64_t n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(row[i]);
  return s;
}

template <class T>
double row_reduce(ReduceOp op, const T* row, int64_t n) {
  switch (op) {
    case ReduceOp::sum:
      return row_sum(row, n);
    case ReduceOp::max:
      return row_extreme(row, n, 1.0);
    case ReduceOp::min:
      return row_extreme(row, n, -1.0);
    case ReduceOp::logsumexp: {
      const double peak = row_extreme(row, n, 1.0);
      if (!std::isfinite(peak)) return peak;  // -inf (empty or all -inf), +inf or NaN
      double s = 0.0;
      for (int64_t i = 0; i < n; ++i) s += std::exp(static_cast<double>(row[i]) - peak);
      return peak + std::log(s);
    }
  }
  return kNaN;
}

template <class T>
void reduce_rows(ReduceOp op, T* out, const T* in, const Blocks& b) {
  const int64_t red = b.red;
  if (b.outer == 1 && op == ReduceOp::sum && red >= cpu::kParallelThreshold) {
    // One long row: per-thread partial sums, combined in thread order (deterministic for a
    // given thread count).
    const int nthr = omp_get_max_threads();
    std::vector<double> partial(static_cast<size_t>(nthr) * 8, 0.0);  // padded: no false sharing
    cpu::parallel_for(red, [&](int64_t begin, int64_t end) {
      partial[static_cast<size_t>(omp_get_thread_num()) * 8] = row_sum(in + begin, end - begin);
    });
    double s = 0.0;
    for (int t = 0; t < nthr; ++t) s += partial[static_cast<size_t>(t) * 8];
    out[0] = static_cast<T>(s);
    return;
  }
  const int64_t threshold = std::max<int64_t>(1, cpu::kParallelThreshold / red);
  cpu::parallel_for(
      b.outer,
      [&](int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o)
          out[o] = static_cast<T>(row_reduce(op, in + o * red, red));
      },
      threshold);
}

// a[j] += Σ_r x[r·inner + j] for j < w: the column sum's inner loop (bias gradients), in double.
// Built for AVX-512 and AVX2 as well as baseline x86-64 (target_clones); the adds are the same
// double additions in the same order on every build, so the result does not depend on the CPU.
template <class T>
[[gnu::always_inline]] inline void add_columns(double* a, const T* x, int64_t red, int64_t inner,
                                               int64_t w) {
  for (int64_t r = 0; r < red; ++r) {
    const T* row = x + r * inner;
    for (int64_t j = 0; j < w; ++j) a[j] += static_cast<double>(row[j]);
  }
}

DIFFVI_CPU_CLONES void add_columns_f32(double* a, const float* x, int64_t red, int64_t inner,
                                       int64_t w) {
  add_columns(a, x, red, inner, w);
}

DIFFVI_CPU_CLONES void add_columns_f64(double* a, const double* x, int64_t red, int64_t inner,
                                       int64_t w) {
  add_columns(a, x, red, inner, w);
}

// out[o, j] = reduce_r in[o, r, j] for the columns j in [j0, j1) of one o.
template <class T>
void reduce_columns(ReduceOp op, T* out, const T* in, int64_t red, int64_t inner, int64_t j0,
                    int64_t j1, std::vector<double>& acc) {
  const int64_t w = j1 - j0;
  acc.assign(static_cast<size_t>(w), 0.0);
  double* a = acc.data();
  auto col = [&](int64_t r) { return in + r * inner + j0; };
  if (op == ReduceOp::sum) {
    if constexpr (std::is_same_v<T, float>) {
      add_columns_f32(a, col(0), red, inner, w);
    } else {
      add_columns_f64(a, col(0), red, inner, w);
    }
    for (int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<T>(a[j]);
    return;
  }
  const double sign = op == ReduceOp::min ? -1.0 : 1.0;
  std::vector<double> peak(static_cast<size_t>(w), -kInf);
  double* m = peak.data();
  for (int64_t r = 0; r < red; ++r) {
    const T* x = col(r);
    for (int64_t j = 0; j < w; ++j) {
      const double v = sign * static_cast<double>(x[j]);
      m[j] = (v > m[j] || v != v) ? v : m[j];  // NaN sticks: NaN > v is false
    }
  }
  if (op != ReduceOp::logsumexp) {
    for (int64_t j = 0; j < w; ++j) out[j0 + j] = static_cast<T>(sign * m[j]);
    return;
  }
  for (int64_t r = 0; r < red; ++r) {
    const T* x = col(r);
    for (int64_t j = 0; j < w; ++j) {
      if (std::isfinite(m[j])) a[j] += std::exp(static_cast<double>(x[j]) - m[j]);
    }
  }
  for (int64_t j = 0; j < w; ++j) {
    out[j0 + j] = static_cast<T>(std::isfinite(m[j]) ? m[j] + std::log(a[j]) : m[j]);
  }
}

template <class T>
void reduce_blocks(ReduceOp op, T* out, const T* in, const Blocks& b) {
  if (b.inner == 1) {
    reduce_rows(op, out, in, b);
    return;
  }
  const int64_t red = b.red, inner = b.inner;
  // Parallel over (outer, column) pairs; a thread walks whole column stripes of its range.
  const int64_t threshold = std::max<int64_t>(1, cpu::kParallelThreshold / red);
  cpu::parallel_for(
      b.outer * inner,
      [&](int64_t begin, int64_t end) {
        std::vector<double> acc;
        for (int64_t at = begin; at < end;) {
          const int64_t o = at / inner, j0 = at % inner;
          const int64_t j1 = std::min(inner, j0 + (end - at));
          reduce_columns(op, out + o * inner, in + o * red * inner, red, inner, j0, j1, acc);
          at += j1 - j0;
        }
      },
      threshold);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Buf& dst, const Buf& src) {
  Blocks b;
  if (!is_floating(src.dtype) || dst.dtype != src.dtype || !block_view(dst, src, b)) {
    ReferenceBackend::reduce(op, dst, src);
    return;
  }
  visit_floating(src.dtype, [&](auto t) {
    using T = decltype(t);
    reduce_blocks(op, dst.ptr<T>(), src.ptr<T>(), b);
  });
}

}  // namespace diffvi
