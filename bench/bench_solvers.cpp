// Solver overhead per model evaluation, beside one evaluation of the W2 MLP (din 18, width 256,
// depth 3 of Linear -> LayerNorm -> GELU, then Linear back to 18; input cat(z, t), batch 256),
// built from raw diffvi ops. The solver benchmarks use a trivial model (one tensor op), so their
// time is the solver's own work: coefficient planning plus the step's axpy-like tensor ops.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/diffusion/schedules/vp_linear.h"
#include "diffvi/solvers/dpm_solver.h"

namespace {

using diffvi::Tensor;
constexpr int64_t kBatch = 256, kDim = 18, kWidth = 256, kDepth = 3;

struct Mlp {
  std::vector<Tensor> w, b, g, beta;
  Mlp() {
    diffvi::Generator gen(0);
    int64_t in = kDim + 1;
    for (int i = 0; i <= kDepth; ++i) {
      const int64_t out = i == kDepth ? kDim : kWidth;
      w.push_back(diffvi::normal({out, in}, 0, 1 / std::sqrt(double(in)), gen));
      b.push_back(diffvi::zeros({out}));
      g.push_back(diffvi::ones({out}));
      beta.push_back(diffvi::zeros({out}));
      in = out;
    }
  }
  Tensor operator()(const Tensor& z, const Tensor& t) const {
    Tensor h = diffvi::cat({z, diffvi::unsqueeze(t, 1)}, 1);
    for (int i = 0; i < kDepth; ++i) {
      h = diffvi::linear(h, w[i], b[i]);
      h = diffvi::gelu(diffvi::layer_norm(h, {kWidth}, g[i], beta[i]));
    }
    return diffvi::linear(h, w[kDepth], b[kDepth]);
  }
};

void BM_W2MlpForward(benchmark::State& state) {
  diffvi::NoGradGuard no_grad;
  Mlp mlp;
  diffvi::Generator gen(1);
  Tensor z = diffvi::randn({kBatch, kDim}, gen), t = diffvi::full({kBatch}, 0.5);
  for (auto _ : state) benchmark::DoNotOptimize(mlp(z, t));
}
BENCHMARK(BM_W2MlpForward)->Unit(benchmark::kMicrosecond);

// One sample() of `steps` evaluations with a trivial model; reports time per evaluation.
void SolverOverhead(benchmark::State& state, const char* name) {
  diffvi::NoGradGuard no_grad;
  auto schedule = std::make_shared<diffvi::diffusion::VPLinear>();
  diffvi::solvers::Model trivial = [](const Tensor& x, const Tensor&) { return 0.5 * x; };
  diffvi::solvers::DpmSolver solver(trivial, schedule, diffvi::solvers::ModelType::noise,
                                    diffvi::solvers::solver_preset(name, 10));
  diffvi::Generator gen(2);
  Tensor x = diffvi::randn({kBatch, kDim}, gen);
  int nfe = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(solver.sample(x));
    nfe += solver.nfe();
  }
  state.counters["per_nfe_us"] =
      benchmark::Counter(nfe * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK_CAPTURE(SolverOverhead, ddim, "ddim")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SolverOverhead, dpmsolver_3, "dpmsolver-3")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SolverOverhead, dpmsolver_3m, "dpmsolver-3m")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SolverOverhead, dpmsolver_pp_2m, "dpmsolver++2m")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SolverOverhead, dpmsolver_pp_3m, "dpmsolver++3m")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(SolverOverhead, dpmsolver_23_adaptive, "dpmsolver-23")
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
