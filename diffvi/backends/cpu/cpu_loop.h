// The elementwise loop of the CPU backend. Dims are first coalesced (extent-1 dims dropped,
// neighbours merged wherever every operand steps through them as one), so a dense tensor is one
// long row and a bias broadcast is rows with a zero-stride operand. The flat index range is then
// split over the OpenMP team and walked as row segments; each segment's inner loop is written
// for unit (or zero) strides so the compiler vectorises it.
#pragma once

#include <array>
#include <cstdint>

#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi::cpu {

constexpr int kMaxLoopRank = 16;

template <size_t N>
struct LoopPlan {
  int rank = 0;
  int64_t numel = 0;
  std::array<int64_t, kMaxLoopRank> shape{};
  std::array<std::array<int64_t, kMaxLoopRank>, N> strides{};
  int64_t inner(size_t k) const { return strides[k][rank - 1]; }
};

// False when the rank exceeds kMaxLoopRank (the caller then uses the reference loop).
template <size_t N>
bool make_plan(const Shape& shape, const std::array<const Strides*, N>& strides,
               LoopPlan<N>& plan) {
  plan.rank = 0;
  plan.numel = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    plan.numel *= shape[d];
    if (shape[d] == 1) continue;
    const int r = plan.rank;
    bool merge = r > 0;
    for (size_t k = 0; k < N && merge; ++k) {
      merge = plan.strides[k][r - 1] == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      plan.shape[r - 1] *= shape[d];
      for (size_t k = 0; k < N; ++k) plan.strides[k][r - 1] = (*strides[k])[d];
      continue;
    }
    if (r == kMaxLoopRank) return false;
    plan.shape[r] = shape[d];
    for (size_t k = 0; k < N; ++k) plan.strides[k][r] = (*strides[k])[d];
    ++plan.rank;
  }
  if (plan.rank == 0) {  // a scalar: one row of one element
    plan.rank = 1;
    plan.shape[0] = 1;
    for (size_t k = 0; k < N; ++k) plan.strides[k][0] = 1;
  }
  return true;
}

// Calls seg(offsets, len) for consecutive row segments covering every element, where
// offsets[k] is operand k's element offset at the segment start.
template <size_t N, class Seg>
void run_plan(const LoopPlan<N>& p, Seg&& seg, int64_t threshold) {
  const int64_t row_len = p.shape[p.rank - 1];
  parallel_for(
      p.numel,
      [&](int64_t begin, int64_t end) {
        std::array<int64_t, kMaxLoopRank> idx{};
        std::array<int64_t, N> base{};
        int64_t row = begin / row_len, col = begin % row_len;
        for (int d = p.rank - 2; d >= 0; --d) {
          idx[d] = row % p.shape[d];
          row /= p.shape[d];
          for (size_t k = 0; k < N; ++k) base[k] += idx[d] * p.strides[k][d];
        }
        int64_t remaining = end - begin;
        for (;;) {
          const int64_t len = std::min(row_len - col, remaining);
          std::array<int64_t, N> at;
          for (size_t k = 0; k < N; ++k) at[k] = base[k] + col * p.inner(k);
          seg(at, len);
          remaining -= len;
          if (remaining == 0) return;
          col = 0;
          for (int d = p.rank - 2; d >= 0; --d) {  // odometer over the outer dims
            if (++idx[d] < p.shape[d]) {
              for (size_t k = 0; k < N; ++k) base[k] += p.strides[k][d];
              break;
            }
            for (size_t k = 0; k < N; ++k) base[k] -= (p.shape[d] - 1) * p.strides[k][d];
            idx[d] = 0;
          }
        }
      },
      threshold);
}

// out = f() / f(a) / f(a, b) / f(a, b, c) elementwise. Contiguous and zero-stride (broadcast)
// inner strides get their own loops so the compiler can vectorise them.
template <class TO, class F>
void map0(const LoopPlan<1>& p, TO* out, F f, int64_t threshold) {
  const int64_t so = p.inner(0);
  run_plan(
      p,
      [&](const std::array<int64_t, 1>& at, int64_t len) {
        TO* o = out + at[0];
        if (so == 1) {
          for (int64_t i = 0; i < len; ++i) o[i] = f();
        } else {
          for (int64_t i = 0; i < len; ++i) o[i * so] = f();
        }
      },
      threshold);
}

template <class TO, class TA, class F>
void map1(const LoopPlan<2>& p, TO* out, const TA* a, F f, int64_t threshold) {
  const int64_t so = p.inner(0), sa = p.inner(1);
  run_plan(
      p,
      [&](const std::array<int64_t, 2>& at, int64_t len) {
        TO* o = out + at[0];
        const TA* pa = a + at[1];
        if (so == 1 && sa == 1) {
          for (int64_t i = 0; i < len; ++i) o[i] = f(pa[i]);
        } else {
          for (int64_t i = 0; i < len; ++i) o[i * so] = f(pa[i * sa]);
        }
      },
      threshold);
}

template <class T, class F>
void map2(const LoopPlan<3>& p, T* out, const T* a, const T* b, F f, int64_t threshold) {
  const int64_t so = p.inner(0), sa = p.inner(1), sb = p.inner(2);
  run_plan(
      p,
      [&](const std::array<int64_t, 3>& at, int64_t len) {
        T* o = out + at[0];
        const T* pa = a + at[1];
        const T* pb = b + at[2];
        if (so == 1 && sa == 1 && sb == 1) {
          for (int64_t i = 0; i < len; ++i) o[i] = f(pa[i], pb[i]);
        } else if (so == 1 && sa == 1 && sb == 0) {
          const T vb = pb[0];
          for (int64_t i = 0; i < len; ++i) o[i] = f(pa[i], vb);
        } else if (so == 1 && sa == 0 && sb == 1) {
          const T va = pa[0];
          for (int64_t i = 0; i < len; ++i) o[i] = f(va, pb[i]);
        } else {
          for (int64_t i = 0; i < len; ++i) o[i * so] = f(pa[i * sa], pb[i * sb]);
        }
      },
      threshold);
}

template <class T, class F>
void map3(const LoopPlan<4>& p, T* out, const T* a, const T* b, const T* c, F f,
          int64_t threshold) {
  const int64_t so = p.inner(0), sa = p.inner(1), sb = p.inner(2), sc = p.inner(3);
  run_plan(
      p,
      [&](const std::array<int64_t, 4>& at, int64_t len) {
        T* o = out + at[0];
        const T* pa = a + at[1];
        const T* pb = b + at[2];
        const T* pc = c + at[3];
        if (so == 1 && sa == 1 && sb == 1 && sc == 1) {
          for (int64_t i = 0; i < len; ++i) o[i] = f(pa[i], pb[i], pc[i]);
        } else {
          for (int64_t i = 0; i < len; ++i) o[i * so] = f(pa[i * sa], pb[i * sb], pc[i * sc]);
        }
      },
      threshold);
}

}  // namespace diffvi::cpu
