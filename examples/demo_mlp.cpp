// A small end-to-end run of the core: fit a 2-D MLP to y = sin(2 x1) cos(2 x2) with reverse-mode
// autograd and the fused AdamW kernel, printing the loss curve. This is run.sh's main job until
// the paper reproductions exist.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"

using namespace diffvi;

int main(int argc, char** argv) {
  int steps = 1500;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--steps")
      steps = std::atoi(argv[i + 1]);
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: demo-mlp [--steps N] [--threads N]\n");
      return 2;
    }
  }
  try {
    set_num_threads(threads);
    Generator gen(42);
    const int64_t n = 512, width = 64;
    Tensor x = uniform({n, 2}, -1.5, 1.5, gen);
    Tensor y = mul(sin(mul(select(x, 1, 0), 2.0)), cos(mul(select(x, 1, 1), 2.0)));
    y = unsqueeze(y, 1);

    // Kaiming-uniform-style init, as PyTorch's Linear does.
    auto weight = [&](int64_t out, int64_t in) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      return uniform({out, in}, -bound, bound, gen, TensorOptions().set_requires_grad(true));
    };
    std::vector<Tensor> params = {weight(width, 2),     zeros({width}).set_requires_grad(true),
                                  weight(width, width), zeros({width}).set_requires_grad(true),
                                  weight(1, width),     zeros({1}).set_requires_grad(true)};
    std::vector<Tensor> m, v;
    for (const Tensor& p : params) {
      m.push_back(zeros_like(p));
      v.push_back(zeros_like(p));
    }
    AdamWConfig config;
    config.lr = 3e-3;
    std::printf("step,loss\n");
    for (int step = 1; step <= steps; ++step) {
      Tensor h = linear(x, params[0], params[1], Activation::tanh);
      h = linear(h, params[2], params[3], Activation::gelu_erf);
      Tensor pred = linear(h, params[4], params[5]);
      Tensor loss = mean(square(sub(pred, y)));
      for (Tensor& p : params) p.set_grad(Tensor());
      backward(loss);
      std::vector<Tensor> grads;
      for (const Tensor& p : params) grads.push_back(p.grad());
      config.step = step;
      raw::adamw_(params, grads, m, v, config);
      if (step == 1 || step % 100 == 0) std::printf("%d,%.6f\n", step, loss.item());
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "demo-mlp: %s\n", e.what());
    return 1;
  }
}
