// Op-level kernels on each backend, called directly through the kernel contract (no tensor
// layer, no allocation in the loop), at 1 and 2 threads:
//   matmul f32 square 64..2048, and the Linear shapes of the canonical MLP workloads (W1-W3:
//   forward with bias, and the two backward products), on "cpu" (oneDNN), OpenBLAS's sgemm
//   called directly (what the cpu backend would get from BLAS instead), and the "reference"
//   loops (small sizes only: they run at ~1 GFLOP/s);
//   layer norm forward/backward, softmax, GELU forward/backward and the fused AdamW step on
//   "cpu" and "reference".
// Counters: GFLOP/s for products (2·M·N·K per call), bytes/s for the memory-bound kernels (the
// arrays each call must read and write once). Run:
//   build/bin/bench_ops --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/shape.h"
#include "diffvi/tensor/threads.h"

namespace {

using diffvi::Buf;
using diffvi::DType;
using diffvi::Shape;

enum Impl : int64_t { kCpu = 0, kReference = 1, kOpenBlas = 2 };
const char* const kImplNames[] = {"cpu", "reference", "openblas"};

// A dense f32 array filled from U(-1, 1), viewed as `shape`.
struct Array {
  std::vector<float> data;
  Buf buf;
  explicit Array(const Shape& shape, uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    data.resize(static_cast<size_t>(diffvi::numel(shape)));
    for (float& v : data) v = u(rng);
    buf = Buf{data.data(), DType::f32, shape, diffvi::contiguous_strides(shape)};
  }
};

diffvi::Backend& backend(Impl impl) {
  return *diffvi::find_backend(impl == kReference ? "reference" : "cpu");
}

void set_threads(benchmark::State& state, int64_t threads) {
  diffvi::set_num_threads(static_cast<int>(threads));
  state.counters["omp_threads"] = static_cast<double>(threads);
}

void set_flops(benchmark::State& state, double flops) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void set_bytes(benchmark::State& state, double bytes) {
  state.counters["bytes"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1024);
}

// C[M, N] = op(A) · op(B): `trans_a` reads A stored [K, M], `trans_b` reads B stored [N, K].
void run_product(benchmark::State& state, Impl impl, int64_t m, int64_t n, int64_t k, bool trans_a,
                 bool trans_b) {
  Array a(trans_a ? Shape{1, k, m} : Shape{1, m, k}, 1);
  Array b(trans_b ? Shape{1, n, k} : Shape{1, k, n}, 2);
  Array c(Shape{1, m, n}, 3);
  if (impl == kOpenBlas) {
    for (auto _ : state) {
      cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                  trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                  static_cast<int>(k), 1.f, a.data.data(), static_cast<int>(trans_a ? m : k),
                  b.data.data(), static_cast<int>(trans_b ? k : n), 0.f, c.data.data(),
                  static_cast<int>(n));
      benchmark::DoNotOptimize(c.data.data());
    }
  } else {
    diffvi::Backend& be = backend(impl);
    for (auto _ : state) {
      be.matmul(c.buf, a.buf, b.buf, trans_a, trans_b);
      benchmark::DoNotOptimize(c.data.data());
    }
  }
  set_flops(state, 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
}

// Args {impl, n, threads}.
void BM_MatmulSquare(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const int64_t n = state.range(1);
  set_threads(state, state.range(2));
  state.SetLabel(kImplNames[impl]);
  run_product(state, impl, n, n, n, false, false);
}

// The Linear layers of the canonical workloads (bench/peer/workloads.json): {batch, in, out}.
struct LinearShape {
  const char* name;
  int64_t batch, in, out;
};
const LinearShape kLinearShapes[] = {
    {"W1 in", 512, 3, 64},     {"W1 hidden", 512, 64, 64},     {"W1 out", 512, 64, 2},
    {"W2 in", 256, 19, 256},   {"W2 hidden", 256, 256, 256},   {"W2 out", 256, 256, 18},
    {"W3 in", 128, 785, 1024}, {"W3 hidden", 128, 1024, 1024}, {"W3 out", 128, 1024, 784},
};

// Forward: y[B, out] = x[B, in] · wᵀ + bias, the library's linear kernel (OpenBLAS: sgemm alone).
// Args {impl, shape index, threads}.
void BM_LinearForward(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const LinearShape& s = kLinearShapes[state.range(1)];
  set_threads(state, state.range(2));
  state.SetLabel(std::string(kImplNames[impl]) + " " + s.name);
  if (impl == kOpenBlas) {
    run_product(state, impl, s.batch, s.out, s.in, false, true);
    return;
  }
  Array x(Shape{s.batch, s.in}, 1), w(Shape{s.out, s.in}, 2), bias(Shape{s.out}, 3),
      y(Shape{s.batch, s.out}, 4);
  diffvi::Backend& be = backend(impl);
  for (auto _ : state) {
    be.linear(y.buf, x.buf, w.buf, &bias.buf, diffvi::Activation::none);
    benchmark::DoNotOptimize(y.data.data());
  }
  set_flops(state, 2.0 * s.batch * s.in * s.out);
}

// Backward: the input gradient g[B, out] · w[out, in] and the weight gradient gᵀ · x.
// Args {impl, shape index, threads, which (0 input, 1 weight)}.
void BM_LinearBackward(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const LinearShape& s = kLinearShapes[state.range(1)];
  set_threads(state, state.range(2));
  const bool weight = state.range(3) == 1;
  state.SetLabel(std::string(kImplNames[impl]) + " " + s.name + (weight ? " dW" : " dX"));
  if (weight) {
    run_product(state, impl, s.out, s.in, s.batch, true, false);  // gᵀ[out, B] · x[B, in]
  } else {
    run_product(state, impl, s.batch, s.in, s.out, false, false);  // g[B, out] · w[out, in]
  }
}

const Shape kRowShapes[] = {{512, 64}, {256, 256}, {128, 1024}};

// Args {impl, row shape index, threads}.
void BM_LayerNormForward(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const Shape& shape = kRowShapes[state.range(1)];
  set_threads(state, state.range(2));
  state.SetLabel(std::string(kImplNames[impl]) + " " + diffvi::shape_str(shape));
  Array x(shape, 1), y(shape, 2), gamma(Shape{shape[1]}, 3), beta(Shape{shape[1]}, 4),
      mean(Shape{shape[0]}, 5), rstd(Shape{shape[0]}, 6);
  diffvi::Backend& be = backend(impl);
  for (auto _ : state) {
    be.layer_norm(y.buf, mean.buf, rstd.buf, x.buf, &gamma.buf, &beta.buf, 1e-5);
    benchmark::DoNotOptimize(y.data.data());
  }
  set_bytes(state, 2.0 * 4 * static_cast<double>(diffvi::numel(shape)));
}

void BM_LayerNormBackward(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const Shape& shape = kRowShapes[state.range(1)];
  set_threads(state, state.range(2));
  state.SetLabel(std::string(kImplNames[impl]) + " " + diffvi::shape_str(shape));
  Array x(shape, 1), y(shape, 2), dy(shape, 3), dx(shape, 4), gamma(Shape{shape[1]}, 5),
      beta(Shape{shape[1]}, 6), dgamma(Shape{shape[1]}, 7), dbeta(Shape{shape[1]}, 8),
      mean(Shape{shape[0]}, 9), rstd(Shape{shape[0]}, 10);
  diffvi::Backend& be = backend(impl);
  be.layer_norm(y.buf, mean.buf, rstd.buf, x.buf, &gamma.buf, &beta.buf, 1e-5);  // real stats
  for (auto _ : state) {
    be.layer_norm_backward(dx.buf, &dgamma.buf, &dbeta.buf, dy.buf, x.buf, mean.buf, rstd.buf,
                           &gamma.buf);
    benchmark::DoNotOptimize(dx.data.data());
  }
  set_bytes(state, 3.0 * 4 * static_cast<double>(diffvi::numel(shape)));
}

void BM_Softmax(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const Shape& shape = kRowShapes[state.range(1)];
  set_threads(state, state.range(2));
  state.SetLabel(std::string(kImplNames[impl]) + " " + diffvi::shape_str(shape));
  Array x(shape, 1), y(shape, 2);
  diffvi::Backend& be = backend(impl);
  for (auto _ : state) {
    be.softmax(y.buf, x.buf, false);
    benchmark::DoNotOptimize(y.data.data());
  }
  set_bytes(state, 2.0 * 4 * static_cast<double>(diffvi::numel(shape)));
}

// Args {impl, row shape index, threads, backward}.
void BM_Gelu(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const Shape& shape = kRowShapes[state.range(1)];
  set_threads(state, state.range(2));
  const bool bwd = state.range(3) == 1;
  state.SetLabel(std::string(kImplNames[impl]) + " " + diffvi::shape_str(shape) +
                 (bwd ? " backward" : " forward"));
  Array x(shape, 1), dy(shape, 2), out(shape, 3);
  diffvi::Backend& be = backend(impl);
  for (auto _ : state) {
    if (bwd) {
      be.unary_backward(diffvi::UnaryOp::gelu_erf, out.buf, x.buf, dy.buf, 0, 0);
    } else {
      be.unary(diffvi::UnaryOp::gelu_erf, out.buf, x.buf, 0, 0);
    }
    benchmark::DoNotOptimize(out.data.data());
  }
  set_bytes(state, (bwd ? 3.0 : 2.0) * 4 * static_cast<double>(diffvi::numel(shape)));
}

// The fused AdamW step over every parameter of a canonical MLP (W2: 142k, W3: 3.7M floats).
// Args {impl, workload (0 W2, 1 W3), threads}. Bytes: param, grad, m, v read; param, m, v written.
void BM_AdamW(benchmark::State& state) {
  const auto impl = static_cast<Impl>(state.range(0));
  const bool w3 = state.range(1) == 1;
  set_threads(state, state.range(2));
  state.SetLabel(std::string(kImplNames[impl]) + (w3 ? " W3" : " W2"));
  // The Linear layers; every one but the last is followed by a LayerNorm (weight and bias).
  const int first = w3 ? 6 : 3;
  const LinearShape layers[] = {kLinearShapes[first], kLinearShapes[first + 1],
                                kLinearShapes[first + 1], kLinearShapes[first + 2]};
  std::vector<Shape> shapes;
  for (int i = 0; i < 4; ++i) {
    shapes.push_back({layers[i].out, layers[i].in});
    shapes.push_back({layers[i].out});
    if (i < 3) {
      shapes.push_back({layers[i].out});
      shapes.push_back({layers[i].out});
    }
  }
  std::vector<Array> arrays;
  arrays.reserve(shapes.size() * 4);
  std::vector<diffvi::AdamWSlot> slots;
  double numel = 0;
  for (const Shape& s : shapes) {
    for (int i = 0; i < 4; ++i) arrays.emplace_back(s, static_cast<uint32_t>(arrays.size()));
    Array* a = &arrays[arrays.size() - 4];
    for (float& v : a[3].data) v = v * v;  // exp_avg_sq >= 0
    slots.push_back({a[0].buf, a[1].buf, a[2].buf, a[3].buf});
    numel += static_cast<double>(diffvi::numel(s));
  }
  diffvi::AdamWConfig config;
  config.lr = 1e-3;
  config.step = 10;
  diffvi::Backend& be = backend(impl);
  for (auto _ : state) {
    be.adamw(slots, config);
    benchmark::DoNotOptimize(arrays.front().data.data());
  }
  set_bytes(state, 7.0 * 4 * numel);
}

void ProductArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"impl", "n", "threads"});
  for (int64_t threads : {1, 2}) {
    for (int64_t n : {64, 128, 256, 512, 1024, 2048}) {
      for (int64_t impl : {kCpu, kOpenBlas, kReference}) {
        if (impl == kReference && (n > 256 || threads > 1)) continue;  // single-threaded loops
        b->Args({impl, n, threads});
      }
    }
  }
}

void LinearArgs(benchmark::internal::Benchmark* b, bool backward) {
  b->ArgNames({"impl", "shape", "threads", "weight"});
  for (int64_t threads : {1, 2}) {
    for (int64_t s = 0; s < 9; ++s) {
      for (int64_t impl : {kCpu, kOpenBlas, kReference}) {
        if (impl == kReference && (s >= 6 || threads > 1)) continue;
        for (int64_t which : {0, 1}) {
          if (!backward && which == 1) continue;
          b->Args({impl, s, threads, which});
        }
      }
    }
  }
}

void RowArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"impl", "shape", "threads"});
  for (int64_t threads : {1, 2}) {
    for (int64_t s = 0; s < 3; ++s) {
      b->Args({kCpu, s, threads});
      if (threads == 1) b->Args({kReference, s, threads});
    }
  }
}

void GeluArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"impl", "shape", "threads", "backward"});
  for (int64_t threads : {1, 2}) {
    for (int64_t s = 0; s < 3; ++s) {
      for (int64_t bwd : {0, 1}) {
        b->Args({kCpu, s, threads, bwd});
        if (threads == 1) b->Args({kReference, s, threads, bwd});
      }
    }
  }
}

BENCHMARK(BM_MatmulSquare)->Apply(ProductArgs)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LinearForward)->Apply([](auto* b) {
                             LinearArgs(b, false);
                           }) -> Unit(benchmark::kMicrosecond) -> UseRealTime();
BENCHMARK(BM_LinearBackward)
    ->Apply([](auto* b) { LinearArgs(b, true); }) -> Unit(benchmark::kMicrosecond) -> UseRealTime();
BENCHMARK(BM_LayerNormForward)->Apply(RowArgs)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LayerNormBackward)->Apply(RowArgs)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Softmax)->Apply(RowArgs)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Gelu)->Apply(GeluArgs)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_AdamW)
    ->ArgsProduct({{kCpu, kReference}, {0, 1}, {1, 2}})
    ->ArgNames({"impl", "workload", "threads"})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
