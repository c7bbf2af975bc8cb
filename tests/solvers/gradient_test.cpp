// Solver runs are differentiable end to end: gradients of a 10-step run with respect to the
// model's parameters and to the initial noise match f64 central differences.
#include <gtest/gtest.h>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/gradcheck.h"
#include "problems.h"

namespace {

using namespace solver_test;
using diffvi::DType;

// A small nonlinear ε-model with parameters w [D, D] and b [D]: ε = tanh(x w + b t) + 0.5 x.
Tensor Eps(const Tensor& x, const Tensor& t, const Tensor& w, const Tensor& b) {
  return diffvi::tanh(diffvi::matmul(x, w) + diffvi::unsqueeze(t, 1) * b) + 0.5 * x;
}

class Gradients : public testing::TestWithParam<const char*> {};

TEST_P(Gradients, TenStepRunMatchesFiniteDifferences) {
  auto schedule = std::make_shared<diffvi::diffusion::VPLinear>();
  diffvi::Generator gen(21);
  auto leaf = [](Tensor t) { return t.set_requires_grad(true); };
  std::vector<Tensor> inputs{leaf(0.5 * diffvi::randn({3, 3}, gen, DType::f64)),
                             leaf(0.5 * diffvi::randn({3}, gen, DType::f64)),
                             leaf(diffvi::randn({2, 3}, gen, DType::f64))};
  auto run = [&](const std::vector<Tensor>& in) {
    Model m = [&](const Tensor& x, const Tensor& t) { return Eps(x, t, in[0], in[1]); };
    DpmSolver solver(m, schedule, ModelType::noise, solver_preset(GetParam(), 10));
    return solver.sample(in[2]);
  };
  auto r = diffvi::gradcheck(run, inputs, {.eps = 1e-6, .atol = 1e-6, .rtol = 1e-5});
  EXPECT_TRUE(r.ok) << GetParam() << ": " << r.message;

  // And backward() reaches the leaves.
  Tensor loss = diffvi::sum(diffvi::square(run(inputs)));
  diffvi::backward(loss);
  for (const Tensor& t : inputs) EXPECT_TRUE(t.grad().defined());
}

INSTANTIATE_TEST_SUITE_P(Solvers, Gradients,
                         testing::Values("ddim", "dpmsolver-3", "dpmsolver-3m", "dpmsolver++2s",
                                         "dpmsolver++2m", "dpmsolver++3m"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return s;
                         });

}  // namespace
