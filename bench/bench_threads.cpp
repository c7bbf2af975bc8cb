// Proves the one-threading-runtime design (DESIGN.md, "Threads"): a small f32 oneDNN matmul must
// stay at a few microseconds when f64 OpenBLAS GEMMs run in between, at 1 and 2 threads. With
// OpenBLAS's pthread build, its spinning pool and OpenMP's fought over the cores and the same
// 64x64 matmul took 1-5 ms. Calls backend kernels directly so it depends only on the contract.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "diffvi/tensor/backend.h"

namespace {

using diffvi::Backend;
using diffvi::Buf;
using diffvi::DType;

Backend& cpu_backend() {
  Backend* b = diffvi::find_backend("cpu");
  if (b == nullptr) {
    std::fprintf(stderr, "bench_threads: no \"cpu\" backend registered\n");
    std::exit(1);
  }
  return *b;
}

// A [1, rows, cols] contiguous view of host memory.
Buf matrix(std::vector<float>& v, int64_t rows, int64_t cols) {
  return Buf{v.data(), DType::f32, {1, rows, cols}, {rows * cols, cols, 1}};
}
Buf matrix(std::vector<double>& v, int64_t rows, int64_t cols) {
  return Buf{v.data(), DType::f64, {1, rows, cols}, {rows * cols, cols, 1}};
}

// Which OpenBLAS threading build the process actually loaded (0 serial, 1 pthread, 2 OpenMP):
// looked up at run time because Debian's alternatives may point libopenblas.so.0 elsewhere.
std::string openblas_build() {
  using Fn = int (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  if (fn == nullptr) return "openblas:?";
  switch (fn()) {
    case 0:
      return "openblas:serial";
    case 1:
      return "openblas:pthread";
    case 2:
      return "openblas:openmp";
  }
  return "openblas:?";
}

struct Operands {
  std::vector<float> a = std::vector<float>(64 * 64, 0.5f), b = a, c = a;
  std::vector<double> x = std::vector<double>(256 * 256, 0.25), y = x, z = x;
};

void small_matmul(Backend& be, Operands& o) {
  be.matmul(matrix(o.c, 64, 64), matrix(o.a, 64, 64), matrix(o.b, 64, 64), false, false);
}
void big_dgemm(Backend& be, Operands& o) {
  be.matmul(matrix(o.z, 256, 256), matrix(o.x, 256, 256), matrix(o.y, 256, 256), false, false);
}

// The 64x64 f32 matmul alone.
void BM_Matmul64F32(benchmark::State& state) {
  Backend& be = cpu_backend();
  be.set_num_threads(static_cast<int>(state.range(0)));
  Operands o;
  small_matmul(be, o);  // creates and caches the primitive outside the timed loop
  for (auto _ : state) {
    small_matmul(be, o);
    benchmark::DoNotOptimize(o.c.data());
  }
  state.SetLabel(openblas_build());
}

// The 256x256 f64 GEMM alone (OpenBLAS), for scale.
void BM_Dgemm256(benchmark::State& state) {
  Backend& be = cpu_backend();
  be.set_num_threads(static_cast<int>(state.range(0)));
  Operands o;
  for (auto _ : state) {
    big_dgemm(be, o);
    benchmark::DoNotOptimize(o.z.data());
  }
  state.SetLabel(openblas_build());
}

// The 64x64 f32 matmul timed right after each 256x256 dgemm: the case that regressed to
// milliseconds when two thread pools were live. Only the matmul is timed.
void BM_Matmul64F32AfterDgemm(benchmark::State& state) {
  Backend& be = cpu_backend();
  be.set_num_threads(static_cast<int>(state.range(0)));
  Operands o;
  small_matmul(be, o);
  for (auto _ : state) {
    big_dgemm(be, o);
    const auto start = std::chrono::steady_clock::now();
    small_matmul(be, o);
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    benchmark::DoNotOptimize(o.c.data());
  }
  state.SetLabel(openblas_build());
}

BENCHMARK(BM_Matmul64F32)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Dgemm256)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Matmul64F32AfterDgemm)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
