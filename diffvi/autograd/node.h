// A node of the dynamic tape: the op's name, its inputs and the closure that maps the output's
// gradient to the inputs' gradients. The output tensor owns its node; the node owns its inputs,
// never its output (the engine passes the output to the closure), so the graph has no cycles.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "diffvi/tensor/tensor.h"

namespace diffvi {

using TensorList = std::vector<Tensor>;

// The engine passes the closure the node's own inputs (as flashlight's gradFunc(inputs, grad)), so
// a closure neither captures its inputs nor reaches them through out's node. grads[i] is the
// gradient for inputs[i] (undefined when that input needs none); `grad_out` is the gradient of
// `out`, the node's output, already of out's shape. What is not an input (a saved mean, a host
// copy) is still captured. Under create_graph the closure builds its result from differentiable
// ops on `inputs`, so the gradient has a graph of its own.
using BackwardFn =
    std::function<TensorList(const TensorList& inputs, const Tensor& grad_out, const Tensor& out)>;

struct Node final : GradNode {
  const char* op = "";
  std::vector<Tensor> inputs;
  BackwardFn backward;

  const char* name() const override { return op; }
  // Drops the closure (and what it saved) and the inputs: the graph behind this node is freed.
  void release();
  ~Node() override;  // tears long chains down iteratively (no recursion limit)
};

// --- grad mode ------------------------------------------------------------------------------
bool grad_enabled();
class NoGradGuard {  // disables graph recording in this thread while alive
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};
class EnableGradGuard {  // re-enables recording (used by create_graph)
 public:
  explicit EnableGradGuard(bool enabled = true);
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

// --- anomaly mode ----------------------------------------------------------------------------
// When on, every op checks its output (and every backward its gradients) for NaN/Inf and throws
// ValueError naming the first op that produced one. Costs a device-to-host copy per op.
void set_anomaly_mode(bool enabled);
bool anomaly_mode();

// Every differentiable op ends here: checks anomalies, and, when grad mode is on and an input
// requires grad, attaches a node so `out` becomes part of the graph. Returns `out`.
Tensor record(const char* op, Tensor out, std::vector<Tensor> inputs, BackwardFn backward);

// True if recording would attach a node for these inputs.
bool needs_grad(std::initializer_list<const Tensor*> inputs);

}  // namespace diffvi
