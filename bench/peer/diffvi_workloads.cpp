// Times the canonical workloads (workloads.json) in diffvi; prints one JSON line, as the PyTorch
// and libtorch contenders do. Written with the public nn API a researcher would use.
//   peer-workloads SPEC.json [--threads N] [--iters K] [--warmup W] [--sgemm] [--only NAME]
//                  [--profile]
// --only times one workload (for profiling it alone). --profile also prints, to stderr, a
// kernel-by-kernel table of each workload's train step and sample (KernelProfiler), per call.
// --sgemm also measures diffvi's own 2048^3 f32 matmul rate (the reference for train GFLOP/s).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"
#include "diffvi/nn/nn.h"
#include "diffvi/tensor/profiler.h"

using namespace diffvi;

namespace {

// depth x [Linear -> LayerNorm -> GELU] then Linear back to din.
class Net : public nn::Module {
 public:
  Net(int64_t din, int64_t width, int64_t depth, Generator& gen) : Module("Net") {
    int64_t fan_in = din + 1;
    for (int64_t i = 0; i < depth; ++i) {
      linears_.push_back(
          register_module("linear" + std::to_string(i),
                          std::make_shared<nn::Linear>(fan_in, width, nn::LinearOptions(), gen)));
      norms_.push_back(register_module("norm" + std::to_string(i),
                                       std::make_shared<nn::LayerNorm>(Shape{width})));
      fan_in = width;
    }
    out_ =
        register_module("out", std::make_shared<nn::Linear>(fan_in, din, nn::LinearOptions(), gen));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = x;
    for (size_t i = 0; i < linears_.size(); ++i) h = gelu((*norms_[i])((*linears_[i])(h)));
    return (*out_)(h);
  }

 private:
  std::vector<std::shared_ptr<nn::Linear>> linears_;
  std::vector<std::shared_ptr<nn::LayerNorm>> norms_;
  std::shared_ptr<nn::Linear> out_;
};

template <class F>
double median_ms(F&& fn, int iters, int warmup) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  return n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
}

double sgemm_gflops() {
  const int64_t n = 2048;
  Generator gen(1);
  Tensor a = randn({n, n}, gen), b = randn({n, n}, gen);
  const double ms = median_ms([&] { matmul(a, b); }, 5, 1);
  return 2.0 * n * n * n / (ms * 1e-3) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: peer-workloads SPEC.json [--threads N] [--iters K] [--warmup W] [--sgemm] "
                 "[--only NAME] [--profile]\n";
    return 2;
  }
  int threads = 1, iters = 20, warmup = 3;
  bool sgemm = false;
  std::string only;
  bool profile = false;
  for (int i = 2; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--sgemm") {
      sgemm = true;
    } else if (f == "--profile") {
      profile = true;
    } else if (i + 1 < argc && f == "--threads") {
      threads = std::stoi(argv[++i]);
    } else if (i + 1 < argc && f == "--iters") {
      iters = std::stoi(argv[++i]);
    } else if (i + 1 < argc && f == "--only") {
      only = argv[++i];
    } else if (i + 1 < argc && f == "--warmup") {
      warmup = std::stoi(argv[++i]);
    } else {
      std::cerr << "peer-workloads: unknown argument " << f << "\n";
      return 2;
    }
  }
  try {
    std::ifstream in(argv[1]);
    if (!in) throw IOError(std::string("cannot open ") + argv[1]);
    const nlohmann::json spec = nlohmann::json::parse(in);
    set_num_threads(threads);
    nlohmann::json res;
    for (const auto& w : spec["workloads"]) {
      if (!only.empty() && w["name"] != only) continue;
      Generator gen(0);
      const int64_t din = w["din"], batch = w["batch"];
      Net net(din, w["width"], w["depth"], gen);
      nn::AdamW opt(net.parameters(), nn::AdamWOptions(spec["lr"].get<double>()));
      const Tensor x = randn({batch, din}, gen);
      const int steps = spec["sample_steps"];
      const double step_size = spec["sample_step_size"];
      auto train_step = [&] {
        Tensor t = rand({batch, 1}, gen);
        Tensor eps = randn({batch, din}, gen);
        Tensor z = add(mul(sqrt(rsub(1.0, t)), x), mul(sqrt(t), eps));
        Tensor loss = mean(square(sub(net(cat({z, t}, 1)), eps)));
        opt.zero_grad();
        backward(loss);
        opt.step();
      };
      auto sample = [&] {
        NoGradGuard no_grad;
        Tensor z = randn({batch, din}, gen);
        for (int k = 0; k < steps; ++k) {
          Tensor t = full({batch, 1}, 1.0 - static_cast<double>(k) / steps);
          z = sub(z, mul(net(cat({z, t}, 1)), step_size));
        }
      };
      if (profile) {
        for (auto& [what, fn] : {std::pair<const char*, std::function<void()>>{"train", train_step},
                                 {"sample", sample}}) {
          for (int i = 0; i < warmup; ++i) fn();
          const auto t0 = std::chrono::steady_clock::now();
          KernelProfiler profiler;
          for (int i = 0; i < iters; ++i) fn();
          const double wall =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count() /
              iters;
          std::cerr << w["name"].get<std::string>() << " " << what << ": " << wall
                    << " ms per call (profiled), " << profiler.total_ms() / iters
                    << " ms of it in kernels\n"
                    << profiler.table(iters) << "\n";
        }
      }
      res[w["name"].get<std::string>()] = {{"train_ms", median_ms(train_step, iters, warmup)},
                                           {"sample_ms", median_ms(sample, iters, warmup)}};
    }
    nlohmann::json out = {{"contender", "diffvi"}, {"threads", threads}, {"workloads", res}};
    if (sgemm) out["sgemm_gflops"] = sgemm_gflops();
    std::cout << out.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "peer-workloads: " << e.what() << "\n";
    return 1;
  }
}
