// Elementwise kernels called directly on the backends (no tensor layer, no allocation): GELU,
// exp and tanh forward and backward, and add/mul dense and broadcast, on f32 [512, 64] (the W1/W2
// MLP activations) and [128, 1024], on "cpu" and on the "reference" oracle, one thread. The
// bytes counter is the traffic the op must move (inputs read + output written) per second.
// Args are {backend (0 cpu, 1 reference), shape (0 [512,64], 1 [128,1024])}. Run:
//   build/bin/bench_elementwise --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/shape.h"

namespace {

using diffvi::BinaryOp;
using diffvi::Buf;
using diffvi::UnaryOp;

const diffvi::Shape kShapes[] = {{512, 64}, {128, 1024}};

diffvi::Backend& backend_arg(const benchmark::State& state) {
  diffvi::Backend* b = diffvi::find_backend(state.range(0) == 0 ? "cpu" : "reference");
  b->set_num_threads(1);
  return *b;
}

// A contiguous f32 buffer of `shape` filled from U(-3, 3), or a broadcast view of one.
struct Operand {
  std::vector<float> data;
  Buf buf;
  Operand(const diffvi::Shape& shape, uint32_t seed, const diffvi::Shape& stored) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-3.f, 3.f);
    data.resize(diffvi::numel(stored));
    for (float& v : data) v = u(rng);
    buf.data = data.data();
    buf.shape = shape;
    buf.strides = diffvi::contiguous_strides(stored);
    for (size_t d = 0; d < shape.size(); ++d) {
      if (stored[d] == 1 && shape[d] != 1) buf.strides[d] = 0;  // broadcast dim
    }
  }
  explicit Operand(const diffvi::Shape& shape, uint32_t seed = 1) : Operand(shape, seed, shape) {}
};

void set_bytes(benchmark::State& state, int64_t numel, int arrays) {
  state.counters["bytes"] = benchmark::Counter(static_cast<double>(numel) * 4 * arrays,
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1024);
}

template <UnaryOp op>
void BM_unary(benchmark::State& state) {
  diffvi::Backend& be = backend_arg(state);
  const diffvi::Shape& shape = kShapes[state.range(1)];
  Operand x(shape, 1), y(shape, 2);
  for (auto _ : state) {
    be.unary(op, y.buf, x.buf, 0, 0);
    benchmark::DoNotOptimize(y.data.data());
  }
  set_bytes(state, x.buf.numel(), 2);
}

template <UnaryOp op>
void BM_unary_backward(benchmark::State& state) {
  diffvi::Backend& be = backend_arg(state);
  const diffvi::Shape& shape = kShapes[state.range(1)];
  Operand x(shape, 1), dy(shape, 2), dx(shape, 3);
  for (auto _ : state) {
    be.unary_backward(op, dx.buf, x.buf, dy.buf, 0, 0);
    benchmark::DoNotOptimize(dx.data.data());
  }
  set_bytes(state, x.buf.numel(), 3);
}

// kind 0: same shape; 1: y is a row vector [1, N]; 2: y is a column [M, 1].
template <BinaryOp op, int kind>
void BM_binary(benchmark::State& state) {
  diffvi::Backend& be = backend_arg(state);
  const diffvi::Shape& shape = kShapes[state.range(1)];
  const diffvi::Shape stored = kind == 0   ? shape
                               : kind == 1 ? diffvi::Shape{1, shape[1]}
                                           : diffvi::Shape{shape[0], 1};
  Operand x(shape, 1), y(shape, 2, stored), out(shape, 3);
  for (auto _ : state) {
    be.binary(op, out.buf, x.buf, y.buf);
    benchmark::DoNotOptimize(out.data.data());
  }
  set_bytes(state, x.buf.numel(), kind == 0 ? 3 : 2);
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"ref", "shape"});
  for (int64_t be : {0, 1}) {
    for (int64_t s : {0, 1}) b->Args({be, s});
  }
}

BENCHMARK(BM_unary<UnaryOp::gelu_erf>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::gelu_erf>)->Apply(Args);
BENCHMARK(BM_unary<UnaryOp::exp>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::exp>)->Apply(Args);
BENCHMARK(BM_unary<UnaryOp::tanh>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::tanh>)->Apply(Args);
BENCHMARK(BM_unary<UnaryOp::erf>)->Apply(Args);
// The backward kernels that run scalar_math's derivative over xsimd batches (cpu_vector_math.cpp).
BENCHMARK(BM_unary_backward<UnaryOp::erf>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::sin>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::rsqrt>)->Apply(Args);
BENCHMARK(BM_unary_backward<UnaryOp::clamp>)->Apply(Args);
BENCHMARK(BM_binary<BinaryOp::add, 0>)->Apply(Args);
BENCHMARK(BM_binary<BinaryOp::mul, 0>)->Apply(Args);
BENCHMARK(BM_binary<BinaryOp::add, 1>)->Apply(Args);
BENCHMARK(BM_binary<BinaryOp::mul, 2>)->Apply(Args);

}  // namespace

BENCHMARK_MAIN();
