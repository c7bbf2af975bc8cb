// Random draws of the CPU backend: the reference's definition (philox.h), computed many
// counters at a time so the compiler vectorises Philox and the Box-Muller arithmetic, and split
// over the OpenMP team. Every value is bit-identical to the reference: philox.h uses no libm,
// and this file is built without FMA contraction, so a vector lane rounds like a scalar.
#include <algorithm>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_internal.h"
#include "diffvi/tensor/philox.h"

namespace diffvi {
namespace {

constexpr int kLanes = 64;  // counters per batch: a few cache lines of state, a vector multiple

// Philox-4x32-10 of counters first .. first + kLanes − 1 (high counter word 0), the rounds of
// philox::block laid out lane by lane so each round is one vectorisable loop.
struct Words {
  uint32_t w0[kLanes], w1[kLanes], w2[kLanes], w3[kLanes];
};

[[gnu::always_inline]] inline void philox_lanes(uint64_t seed, uint64_t first, Words& r) {
  for (int i = 0; i < kLanes; ++i) {
    const uint64_t c = first + static_cast<uint64_t>(i);
    r.w0[i] = static_cast<uint32_t>(c);
    r.w1[i] = static_cast<uint32_t>(c >> 32);
    r.w2[i] = 0;
    r.w3[i] = 0;
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < kLanes; ++i) philox::round(r.w0[i], r.w1[i], r.w2[i], r.w3[i], k0, k1);
    k0 += philox::kWeyl0;
    k1 += philox::kWeyl1;
  }
}

// out[i] = a + (b − a) U or a + b N for counters first + i, i < n ≤ kLanes (the reference's
// arithmetic: in double, then rounded to T).
template <class T>
[[gnu::always_inline]] inline void draw_lanes(bool normal, double a, double b, uint64_t seed,
                                              uint64_t first, int64_t n, T* out) {
  Words r;
  philox_lanes(seed, first, r);
  double v[kLanes];
  if (normal) {
    for (int i = 0; i < kLanes; ++i) {
      const double u1 = philox::unit53(r.w0[i], r.w1[i]);
      const double u2 = philox::unit53(r.w2[i], r.w3[i]);
      const double z = std::sqrt(-2.0 * philox::log_positive(u1)) * philox::cos_two_pi(u2);
      v[i] = a + b * z;
    }
  } else {
    for (int i = 0; i < kLanes; ++i) v[i] = a + (b - a) * philox::unit53(r.w0[i], r.w1[i]);
  }
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(v[i]);
}

// One thread's share [begin, end) of a dense draw; cloned for AVX-512 and AVX2 (the library is
// built for baseline x86-64) and dispatched on the processor at load time.
template <class T>
[[gnu::always_inline]] inline void draw_range(bool normal, double a, double b, uint64_t seed,
                                              uint64_t offset, int64_t begin, int64_t end, T* out) {
  for (int64_t i = begin; i < end; i += kLanes) {
    draw_lanes(normal, a, b, seed, offset + static_cast<uint64_t>(i),
               std::min<int64_t>(kLanes, end - i), out + i);
  }
}

DIFFVI_CPU_CLONES void draw_f32(bool normal, double a, double b, uint64_t seed, uint64_t offset,
                                int64_t begin, int64_t end, float* out) {
  draw_range(normal, a, b, seed, offset, begin, end, out);
}

DIFFVI_CPU_CLONES void draw_f64(bool normal, double a, double b, uint64_t seed, uint64_t offset,
                                int64_t begin, int64_t end, double* out) {
  draw_range(normal, a, b, seed, offset, begin, end, out);
}

}  // namespace

void CpuBackend::random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
                        uint64_t offset) {
  if (!cpu::is_dense(dst) || !(dst.dtype == DType::f32 || dst.dtype == DType::f64)) {
    ReferenceBackend::random(dst, dist, a, b, seed, offset);
    return;
  }
  const bool normal = dist == Distribution::normal;
  // ~40 cycles an element for a normal draw: worth a second thread from a few thousand.
  cpu::parallel_for(
      dst.numel(),
      [&](int64_t begin, int64_t end) {
        if (dst.dtype == DType::f32) {
          draw_f32(normal, a, b, seed, offset, begin, end, dst.ptr<float>());
        } else {
          draw_f64(normal, a, b, seed, offset, begin, end, dst.ptr<double>());
        }
      },
      cpu::kParallelThresholdHeavy);
}

}  // namespace diffvi
