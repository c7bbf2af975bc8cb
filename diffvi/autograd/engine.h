// Reverse-mode differentiation over the tape built by record(). Iterative (no recursion), so
// chains of any length backpropagate.
#pragma once

#include <optional>
#include <vector>

#include "diffvi/autograd/node.h"

namespace diffvi {

// Accumulates d(root)/d(leaf) into every leaf's .grad. `grad_out` seeds the root (required unless
// root has one element). Unless retain_graph, the graph is freed as it is walked. With
// create_graph the backward pass is itself recorded (for higher derivatives); retain_graph then
// defaults to true, as in PyTorch, since the derivative graph points into the walked one.
void backward(const Tensor& root, const Tensor& grad_out = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

struct GradOptions {
  std::vector<Tensor> grad_outputs;  // seeds; empty means ones for one-element outputs
  std::optional<bool> retain_graph;  // unset: the value of create_graph (as in PyTorch)
  bool create_graph = false;
  bool allow_unused = false;  // else an input the outputs do not depend on is an error
};
// Returns d(sum of outputs·seeds)/d(inputs) without touching any .grad. An unused input gets an
// undefined tensor when allow_unused, else AutogradError.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options = {});

}  // namespace diffvi
