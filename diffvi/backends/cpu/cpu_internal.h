// Helpers shared by the CPU backend's kernel files (not part of the public API).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "diffvi/tensor/backend.h"

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
