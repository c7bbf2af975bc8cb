// PyTorch parity: identical weights and inputs give the same outputs and gradients as PyTorch for
// Linear, LayerNorm, GELU and Conv2d, and the same parameters and state after AdamW steps. The
// weights/inputs go to torch_parity.py (run by Debian's /usr/bin/python3, which has python3-torch)
// as a safetensors file and the results come back the same way. Skips when torch is unavailable.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "diffvi/nn/safetensors.h"
#include "nn_test_util.h"

namespace fs = std::filesystem;
namespace nn = diffvi::nn;
using diffvi::Tensor;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

bool TorchAvailable() {
  const std::string cmd = std::string(kPython) + " -c 'import torch, numpy' >/dev/null 2>&1";
  return fs::exists(kPython) && std::system(cmd.c_str()) == 0;
}

// Forward of `m` on x and gradients of sum(m(x) * seed), recorded under `prefix`.
void RunModule(nn::Module& m, const std::string& prefix, const Tensor& x, const Tensor& seed,
               nn::TensorDict& out) {
  Tensor xl = testutil::Leaf(x);
  Tensor y = m(xl);
  diffvi::backward(diffvi::sum(diffvi::mul(y, seed)));
  out.emplace_back(prefix + ".y", y);
  out.emplace_back(prefix + ".dx", xl.grad());
  for (const auto& [name, p] : m.named_parameters())
    out.emplace_back(prefix + ".d" + name, p.grad());
}

TEST(TorchParity, LinearLayerNormGeluConv2dAndAdamW) {
  if (!TorchAvailable()) GTEST_SKIP() << kPython << " cannot import torch and numpy";
  const fs::path dir =
      fs::temp_directory_path() / ("diffvi_torch_parity_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  diffvi::Generator gen(7);
  nn::Linear linear(5, 4, {}, gen);
  nn::LayerNorm ln({6});
  nn::GELU gelu;
  nn::Conv2d conv(3, 4, 3, nn::Conv2dOptions().set_stride(2).set_padding(1), gen);
  // LayerNorm's default affine is ones/zeros: give it something to get wrong.
  diffvi::raw::copy_(ln.weight, testutil::Uniform({6}, 1, diffvi::DType::f32, 0.5, 1.5));
  diffvi::raw::copy_(ln.bias, testutil::Uniform({6}, 2));

  struct Io {
    nn::Module* module;
    std::string prefix;
    Tensor x, seed;
  };
  std::vector<Io> ios = {
      {&linear, "linear", testutil::Uniform({3, 5}, 3), testutil::Uniform({3, 4}, 4)},
      {&ln, "ln", testutil::Uniform({4, 6}, 5, diffvi::DType::f32, -2, 2),
       testutil::Uniform({4, 6}, 6)},
      {&gelu, "gelu", testutil::Uniform({20}, 7, diffvi::DType::f32, -4, 4),
       testutil::Uniform({20}, 8)},
      {&conv, "conv", testutil::Uniform({2, 3, 7, 6}, 9), testutil::Uniform({2, 4, 4, 3}, 10)},
  };
  const Tensor param = testutil::Uniform({7}, 11);
  const int steps = 3;
  nn::TensorDict in = {{"adamw.param", param}};
  for (int k = 0; k < steps; ++k) {
    in.emplace_back("adamw.grad." + std::to_string(k), testutil::Uniform({7}, 12 + k));
  }
  for (const Io& io : ios) {
    for (const auto& [name, p] : io.module->named_parameters())
      in.emplace_back(io.prefix + "." + name, p);
    in.emplace_back(io.prefix + ".x", io.x);
    in.emplace_back(io.prefix + ".seed", io.seed);
  }
  const std::map<std::string, std::string> meta = {{"conv.stride", "2"},
                                                   {"conv.padding", "1"},
                                                   {"adamw.lr", "0.01"},
                                                   {"adamw.weight_decay", "0.1"},
                                                   {"adamw.steps", std::to_string(steps)}};
  nn::save_safetensors((dir / "in.safetensors").string(), in, meta);

  const fs::path script = fs::path(__FILE__).parent_path() / "torch_parity.py";
  const std::string cmd = std::string(kPython) + " '" + script.string() + "' '" +
                          (dir / "in.safetensors").string() + "' '" +
                          (dir / "out.safetensors").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const nn::TensorDict torch_out = nn::load_safetensors((dir / "out.safetensors").string()).tensors;

  nn::TensorDict ours;
  for (const Io& io : ios) RunModule(*io.module, io.prefix, io.x, io.seed, ours);
  Tensor p = diffvi::raw::clone(param);
  p.set_requires_grad(true);
  nn::AdamW opt(std::vector<Tensor>{p}, nn::AdamWOptions(0.01).set_weight_decay(0.1));
  for (int k = 0; k < steps; ++k) {
    p.set_grad(nn::find_tensor(in, "adamw.grad." + std::to_string(k)));
    opt.step();
  }
  ours.emplace_back("adamw.param", p);
  const nn::TensorDict state = opt.state_dict();
  ours.emplace_back("adamw.exp_avg", nn::find_tensor(state, "state.0.exp_avg"));
  ours.emplace_back("adamw.exp_avg_sq", nn::find_tensor(state, "state.0.exp_avg_sq"));

  EXPECT_EQ(ours.size(), torch_out.size());
  for (const auto& [name, mine] : ours) {
    SCOPED_TRACE(name);
    const Tensor theirs = nn::find_tensor(torch_out, name);
    ASSERT_TRUE(theirs.defined()) << name << " missing from torch's output";
    EXPECT_TRUE(testutil::AllClose(diffvi::detach(mine), theirs, 1e-4, 1e-5));
  }
  fs::remove_all(dir);
}

}  // namespace
