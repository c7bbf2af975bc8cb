// The fused AdamW step (one raw::adamw_ kernel over a whole parameter group: one parallel pass,
// one read and write of each of p, g, m, v) against the same update built per parameter from
// autograd-level ops under NoGradGuard (about ten elementwise kernels and allocations per
// parameter tensor). Two parameter sets:
//   fashion_mlp: MLP 784-512-256-10 (the Fashion-MNIST example's scale, 6 tensors, 535k values)
//   deep_narrow: MLP 2-64x16-2 with LayerNorm (the score networks of the VI papers, 66 small
//                tensors, where per-op overhead dominates).
// Args are {set, threads}. Run: build/bin/bench_adamw --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <vector>

#include "diffvi/diffvi.h"
#include "diffvi/nn/nn.h"

namespace {

namespace nn = diffvi::nn;
using diffvi::Tensor;

std::shared_ptr<nn::MLP> make_model(int64_t which) {
  diffvi::Generator gen(0);
  if (which == 0) return std::make_shared<nn::MLP>(nn::MLPOptions({784, 512, 256, 10}), gen);
  std::vector<int64_t> widths = {2};
  for (int i = 0; i < 16; ++i) widths.push_back(64);
  widths.push_back(2);
  return std::make_shared<nn::MLP>(nn::MLPOptions(widths)
                                       .set_norm(nn::NormKind::layer_norm)
                                       .set_activation(diffvi::Activation::silu),
                                   gen);
}

void give_grads(const std::vector<Tensor>& params) {
  diffvi::Generator gen(1);
  for (Tensor p : params) p.set_grad(diffvi::uniform(p.shape(), -1, 1, gen));
}

void set_label(benchmark::State& state, const std::vector<Tensor>& params) {
  int64_t n = 0;
  for (const Tensor& p : params) n += p.numel();
  state.SetLabel((state.range(0) == 0 ? "fashion_mlp " : "deep_narrow ") +
                 std::to_string(params.size()) + " tensors, " + std::to_string(n) + " values, " +
                 std::to_string(state.range(1)) + " thread(s)");
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_AdamWFused(benchmark::State& state) {
  diffvi::set_num_threads(static_cast<int>(state.range(1)));
  auto model = make_model(state.range(0));
  const std::vector<Tensor> params = model->parameters();
  give_grads(params);
  nn::AdamW opt(params, nn::AdamWOptions(1e-3));
  for (auto _ : state) opt.step();
  set_label(state, params);
}

// The same AdamW update, tensor by tensor, from differentiable-layer ops with recording off.
void BM_AdamWOpByOp(benchmark::State& state) {
  diffvi::set_num_threads(static_cast<int>(state.range(1)));
  auto model = make_model(state.range(0));
  const std::vector<Tensor> params = model->parameters();
  give_grads(params);
  std::vector<Tensor> m, v;
  for (const Tensor& p : params) {
    m.push_back(diffvi::zeros_like(p));
    v.push_back(diffvi::zeros_like(p));
  }
  const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 1e-2;
  int64_t t = 0;
  for (auto _ : state) {
    diffvi::NoGradGuard no_grad;
    ++t;
    const double bias1 = 1 - std::pow(b1, t), bias2 = 1 - std::pow(b2, t);
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor& p = params[i];
      const Tensor g = p.grad();
      Tensor mi = diffvi::add(diffvi::mul(m[i], b1), diffvi::mul(g, 1 - b1));
      Tensor vi = diffvi::add(diffvi::mul(v[i], b2), diffvi::mul(diffvi::square(g), 1 - b2));
      Tensor denom = diffvi::add(diffvi::sqrt(diffvi::div(vi, bias2)), eps);
      Tensor update = diffvi::div(diffvi::mul(mi, lr / bias1), denom);
      diffvi::raw::copy_(p, diffvi::sub(diffvi::mul(p, 1 - lr * wd), update));
      diffvi::raw::copy_(m[i], mi);
      diffvi::raw::copy_(v[i], vi);
    }
  }
  set_label(state, params);
}

// Args: {parameter set (0 fashion_mlp, 1 deep_narrow), threads}.
BENCHMARK(BM_AdamWFused)->ArgsProduct({{0, 1}, {1, 2}})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AdamWOpByOp)->ArgsProduct({{0, 1}, {1, 2}})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
