// Helpers shared by the CPU backend's kernel files (not part of the public API).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "diffvi/tensor/backend.h"

// DIFFVI_CPU_CLONES before a function builds it three times, for x86-64-v4 (AVX-512),
// x86-64-v3 (AVX2 + FMA) and the baseline the library is compiled for, and picks the widest the
// processor runs when the library loads (an ifunc). For the few loops where vector width pays
// (GELU, layer norm, AdamW, random draws, column sums): the rest of the library stays portable
// baseline code. Functions it calls must be inlined into it (always_inline) to get the width.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DIFFVI_CPU_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DIFFVI_CPU_CLONES
#endif

namespace diffvi::cpu {

// Below this many elements a loop runs on the calling thread: waking the OpenMP team costs a few
// microseconds, more than a memory-bound loop over 32k floats takes on one core.
constexpr int64_t kParallelThreshold = 32768;
// Transcendental loops cost ~10x more per element, so they are worth splitting sooner.
constexpr int64_t kParallelThresholdHeavy = 4096;

// Row-major dense, ignoring the strides of size-1 dims (which carry no information).
inline bool is_dense(const Buf& b) {
  int64_t expected = 1;
  for (int64_t i = b.ndim() - 1; i >= 0; --i) {
    if (b.shape[i] == 1) continue;
    if (b.strides[i] != expected) return false;
    expected *= b.shape[i];
  }
  return true;
}

// oneDNN reads the OpenMP thread count when it creates and runs a primitive. Small primitives
// (a 64x64 matmul is ~5 us on one core) gain nothing from a second thread and lose a lot when
// the team must be woken or a core is busy elsewhere, so they run with one thread: this scope
// drops the count to 1 while alive (the primitive cache keys on the count, so the single-thread
// primitive is cached separately).
class SerialScope {
 public:
  explicit SerialScope(bool serial) {
    if (serial && (saved_ = omp_get_max_threads()) > 1) {
      omp_set_num_threads(1);
    } else {
      saved_ = 0;
    }
  }
  ~SerialScope() {
    if (saved_ > 0) omp_set_num_threads(saved_);
  }
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  int saved_ = 0;
};

// Below this many multiply-adds a oneDNN matmul runs on one thread (~40 us of work).
constexpr int64_t kSerialMatmulMacs = int64_t{1} << 21;

// Rows and columns of a dense f32 operand read as the contract's [rows, cols] (other ranks are
// rows of the last dim, as in the reference); false for anything else or an empty extent.
inline bool dense_rows(const Buf& b, int64_t& rows, int64_t& cols) {
  if (b.dtype != DType::f32 || b.ndim() == 0 || !is_dense(b)) return false;
  cols = b.shape.back();
  rows = cols == 0 ? 0 : b.numel() / cols;
  return rows > 0 && cols > 0;
}

// An optional dense f32 vector of n elements (null passes).
inline bool dense_vec(const Buf* b, int64_t n) {
  return b == nullptr || (b->dtype == DType::f32 && b->numel() == n && is_dense(*b));
}

inline bool same_shape(const Buf& a, const Buf& b) { return a.shape == b.shape; }

// Runs f(begin, end) over [0, n): on the calling thread for small n, else split evenly over the
// OpenMP team in 64-byte-aligned chunks (so threads never share a cache line of the output).
template <class F>
void parallel_for(int64_t n, F&& f, int64_t threshold = kParallelThreshold) {
  const int nthr = omp_get_max_threads();
  if (n < threshold || nthr <= 1 || omp_in_parallel()) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(nthr)
  {
    const int64_t nt = omp_get_num_threads();
    const int64_t t = omp_get_thread_num();
    int64_t chunk = (n + nt - 1) / nt;
    chunk = (chunk + 15) / 16 * 16;
    const int64_t begin = std::min(n, t * chunk);
    const int64_t end = std::min(n, begin + chunk);
    if (begin < end) f(begin, end);
  }
}

}  // namespace diffvi::cpu
