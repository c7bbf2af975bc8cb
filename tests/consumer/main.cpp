// Uses diffvi through its installed headers and exported CMake package only: creation, ops,
// autograd, gradcheck and typed errors, the way a user's program would.
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "consumer: FAILED: " << what << "\n";
    ++failures;
  }
}

}  // namespace

int main() {
  using namespace diffvi;
  set_num_threads(2);
  expect(get_num_threads() == 2, "set_num_threads(2)");

  // A tiny layer, forward and backward.
  Generator gen(42);
  Tensor x = randn({8, 3}, gen);
  Tensor w = randn({4, 3}, gen, TensorOptions().set_requires_grad(true));
  Tensor b = zeros({4}, TensorOptions().set_requires_grad(true));
  Tensor y = tanh(linear(x, w, b));
  Tensor loss = mean(y * y);
  backward(loss);
  std::cout << "x = " << x << "\nloss = " << loss.item() << "\ndloss/dw = " << w.grad() << "\n";
  expect(y.shape() == Shape({8, 4}), "linear output shape");
  expect(w.grad().defined() && w.grad().shape() == w.shape(), "w.grad shape");
  expect(b.grad().defined() && b.grad().shape() == b.shape(), "b.grad shape");

  // f64 matmul (OpenBLAS) against a plain loop.
  Tensor a64 = randn({3, 4}, gen, DType::f64), b64 = randn({4, 2}, gen, DType::f64);
  auto av = a64.to_vector<double>(), bv = b64.to_vector<double>();
  auto cv = matmul(a64, b64).to_vector<double>();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) {
      double acc = 0;
      for (int k = 0; k < 4; ++k) acc += av[i * 4 + k] * bv[k * 2 + j];
      expect(std::abs(acc - cv[i * 2 + j]) < 1e-12, "f64 matmul value");
    }
  }

  // Gradients of a small chain match central differences.
  TensorOptions f64_grad = TensorOptions(DType::f64).set_requires_grad(true);
  GradcheckResult check = gradcheck(
      [](const std::vector<Tensor>& in) {
        return logsumexp(sigmoid(matmul(in[0], in[1])) * sum(in[0], {1}, true), {1});
      },
      {randn({3, 4}, gen, f64_grad), randn({4, 5}, gen, f64_grad)});
  std::cout << "gradcheck: " << (check.ok ? "ok" : check.message) << ", max abs error "
            << check.max_abs_error << "\n";
  expect(check.ok, "gradcheck");

  // Random chains of ops composed here, outside the library: gradients match finite differences.
  using Op = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, Op>> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / (square(b) + 1.0); }},
      {"tanh", [](const Tensor& a, const Tensor&) { return tanh(a); }},
      {"gelu", [](const Tensor& a, const Tensor&) { return gelu(a); }},
      {"softplus", [](const Tensor& a, const Tensor&) { return softplus(a); }},
      {"exp", [](const Tensor& a, const Tensor&) { return exp(clamp(a, -3.0, 3.0)); }},
      {"matmul",
       [](const Tensor& a, const Tensor& b) { return matmul(a, transpose(b, 0, 1)) / 4.0; }},
      {"softmax", [](const Tensor& a, const Tensor&) { return softmax(a, 1); }},
      {"layer_norm", [](const Tensor& a, const Tensor&) { return layer_norm(a, {4}); }},
      {"bcast_sub", [](const Tensor& a, const Tensor& b) { return a - mean(b, {0}, true); }},
      {"cumsum", [](const Tensor& a, const Tensor&) { return cumsum(a, 1); }},
      {"permute",
       [](const Tensor& a, const Tensor& b) {
         return reshape(transpose(reshape(a, {2, 2, 4}), 1, 2), {4, 4}) + b;
       }},
  };
  Generator pick(7);
  int chains_ok = 0;
  const int kChains = 25;
  for (int c = 0; c < kChains; ++c) {
    std::vector<size_t> chain;
    std::string names;
    for (int k = 0; k < 6; ++k) {
      const size_t i = static_cast<size_t>(rand({1}, pick).item() * ops.size()) % ops.size();
      chain.push_back(i);
      names += std::string(k ? " -> " : "") + ops[i].first;
    }
    GradcheckResult r = gradcheck(
        [&](const std::vector<Tensor>& in) {
          Tensor h = in[0];
          for (size_t i : chain) h = ops[i].second(h, in[1]);
          return h;
        },
        {randn({4, 4}, gen, f64_grad), randn({4, 4}, gen, f64_grad)}, {.atol = 1e-5, .rtol = 1e-4});
    if (r.ok) {
      ++chains_ok;
    } else {
      std::cerr << "chain " << names << ": " << r.message << "\n";
    }
  }
  std::cout << "random op chains: " << chains_ok << "/" << kChains << " match finite differences\n";
  expect(chains_ok == kChains, "random op chains match finite differences");

  // Same seed, same numbers.
  Generator again(42);
  expect(randn({8, 3}, again).to_vector<float>() == x.to_vector<float>(), "reproducible randn");

  // User errors are typed exceptions that name the shapes, not aborts.
  bool threw = false;
  try {
    matmul(x, x);
  } catch (const ShapeError& e) {
    threw = std::string(e.what()).find("[8, 3]") != std::string::npos;
    std::cout << "ShapeError: " << e.what() << "\n";
  }
  expect(threw, "matmul [8,3] x [8,3] throws a ShapeError naming [8, 3]");

  if (failures != 0) return EXIT_FAILURE;
  std::cout << "consumer: OK\n";
  return EXIT_SUCCESS;
}
