// Checks analytic gradients against f64 central differences: the test every op goes through.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "diffvi/tensor/tensor.h"

namespace diffvi {

struct GradcheckOptions {
  double eps = 1e-6;   // finite-difference step
  double atol = 1e-6;  // |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-5;
  uint64_t seed = 1;  // for the random projection of non-scalar outputs
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string message;  // the first mismatch: input, element, analytic and numeric values
};

// f maps the inputs (f64 tensors; those that require grad are checked) to one tensor. The
// scalar checked is sum(f(inputs) * w) for a fixed random w, so every output element counts.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

// Second order, as PyTorch's gradgradcheck: gradcheck of the vector-Jacobian product
// (inputs, v) -> d(sum(f(inputs) * v))/d(inputs), taken with create_graph, for a random seed v of
// f's output shape that is itself checked. Its derivative in the inputs is the Hessian-vector
// product; in v, the Jacobian, which a backward that detaches the upstream gradient gets wrong.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs,
                              const GradcheckOptions& options = {});

}  // namespace diffvi
