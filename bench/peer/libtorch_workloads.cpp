// Times the canonical workloads (workloads.json) in libtorch's C++ frontend; prints one JSON
// line. Usage: libtorch-workloads SPEC.json --threads N --iters K [--warmup W]
// Mirrors torch_workloads.py step for step.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

torch::nn::Sequential make_net(int64_t din, int64_t width, int64_t depth) {
  torch::nn::Sequential net;
  int64_t fan_in = din + 1;
  for (int64_t i = 0; i < depth; ++i) {
    net->push_back(torch::nn::Linear(fan_in, width));
    net->push_back(torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
    net->push_back(torch::nn::GELU());
    fan_in = width;
  }
  net->push_back(torch::nn::Linear(fan_in, din));
  return net;
}

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: libtorch-workloads SPEC.json [--threads N] [--iters K] [--warmup W]\n";
    return 2;
  }
  int threads = 1, iters = 20, warmup = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    if (f == "--threads")
      threads = std::stoi(argv[i + 1]);
    else if (f == "--iters")
      iters = std::stoi(argv[i + 1]);
    else if (f == "--warmup")
      warmup = std::stoi(argv[i + 1]);
  }
  std::ifstream in(argv[1]);
  const nlohmann::json spec = nlohmann::json::parse(in);
  torch::set_num_threads(threads);
  nlohmann::json res;
  for (const auto& w : spec["workloads"]) {
    torch::manual_seed(0);
    const int64_t din = w["din"], batch = w["batch"];
    auto net = make_net(din, w["width"], w["depth"]);
    torch::optim::AdamW opt(net->parameters(),
                            torch::optim::AdamWOptions(spec["lr"].get<double>()));
    const torch::Tensor x = torch::randn({batch, din});
    const int steps = spec["sample_steps"];
    const double step_size = spec["sample_step_size"];
    auto train_step = [&] {
      auto t = torch::rand({batch, 1});
      auto eps = torch::randn({batch, din});
      auto z = torch::sqrt(1 - t) * x + torch::sqrt(t) * eps;
      auto loss = torch::mean(torch::pow(net->forward(torch::cat({z, t}, 1)) - eps, 2));
      opt.zero_grad();
      loss.backward();
      opt.step();
    };
    auto sample = [&] {
      torch::NoGradGuard no_grad;
      auto z = torch::randn({batch, din});
      for (int k = 0; k < steps; ++k) {
        auto t = torch::full({batch, 1}, 1.0 - static_cast<double>(k) / steps);
        z = z - step_size * net->forward(torch::cat({z, t}, 1));
      }
    };
    res[w["name"].get<std::string>()] = {{"train_ms", median_ms(train_step, iters, warmup)},
                                         {"sample_ms", median_ms(sample, iters, warmup)}};
  }
  std::cout
      << nlohmann::json{{"contender", "libtorch"}, {"threads", threads}, {"workloads", res}}.dump()
      << "\n";
  return 0;
}
