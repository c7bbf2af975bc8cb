#include "diffvi/autograd/engine.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/ops.h"

namespace diffvi {
namespace {

Node* node_of(TensorImpl* t) { return t->grad_fn ? static_cast<Node*>(t->grad_fn.get()) : nullptr; }

Tensor seed_for(const Tensor& out, const Tensor& given, const char* who) {
  if (given.defined()) {
    if (given.shape() != out.shape()) {
      throw ShapeError(std::string(who) + ": gradient " + describe(given) +
                       " does not match output " + describe(out));
    }
    return given;
  }
  if (out.numel() != 1) {
    throw AutogradError(std::string(who) +
                        ": grad can be implicitly created only for outputs "
                        "with one element; output is " +
                        describe(out) + " (pass a seed gradient)");
  }
  return ones_like(out);
}

void check_finite(const Tensor& g, const char* op) {
  if (!is_floating(g.dtype())) return;
  for (double v : g.to_vector<double>()) {
    if (!std::isfinite(v)) {
      throw ValueError(std::string("anomaly: backward of op '") + op +
                       "' produced NaN/Inf in a gradient " + describe(g));
    }
  }
}

// Runs the backward pass from `roots` seeded with `seeds`. For every tensor in `capture` its
// total gradient is stored in `captured` (and .grad is left alone); otherwise leaf gradients
// accumulate into .grad.
void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds, bool retain_graph,
         bool create_graph, const std::unordered_set<TensorImpl*>* capture,
         std::unordered_map<TensorImpl*, Tensor>* captured) {
  // Pass 1: count, for each tensor in the graph, how many edges will deliver a gradient to it.
  std::unordered_map<TensorImpl*, int> pending;
  std::vector<TensorImpl*> stack;
  std::unordered_set<TensorImpl*> seen;
  for (const Tensor& r : roots) {
    if (seen.insert(r.impl()).second) stack.push_back(r.impl());
  }
  while (!stack.empty()) {
    TensorImpl* t = stack.back();
    stack.pop_back();
    Node* node = node_of(t);
    if (!node) continue;
    // release() clears both the closure and the inputs, so a freed node is one without a closure
    // (record() always installs one).
    if (!node->backward) {
      throw AutogradError(std::string("backward through op '") + node->op +
                          "' a second time: its graph was freed (use retain_graph=true)");
    }
    for (const Tensor& in : node->inputs) {
      if (!in.defined() || !in.requires_grad()) continue;
      ++pending[in.impl()];
      if (seen.insert(in.impl()).second) stack.push_back(in.impl());
    }
  }
  // Pass 2: process tensors once all their gradient contributions have arrived.
  EnableGradGuard grad_mode(create_graph);
  std::unordered_map<TensorImpl*, Tensor> grads;
  std::unordered_map<TensorImpl*, Tensor> keep;  // the Tensor handles of queued impls
  std::vector<TensorImpl*> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    TensorImpl* r = roots[i].impl();
    auto it = grads.find(r);
    if (it == grads.end()) {
      grads[r] = seeds[i];
    } else {
      it->second = add(it->second, seeds[i]);
    }
    keep[r] = roots[i];
  }
  for (const Tensor& r : roots) {
    if (pending[r.impl()] == 0 && std::find(ready.begin(), ready.end(), r.impl()) == ready.end()) {
      ready.push_back(r.impl());
    }
  }
  while (!ready.empty()) {
    TensorImpl* t = ready.back();
    ready.pop_back();
    Tensor self = std::move(keep[t]);
    keep.erase(t);
    Tensor g = std::move(grads[t]);
    grads.erase(t);
    Node* node = node_of(t);
    if (!g.defined()) {
      // No gradient reached this tensor; its inputs must still be released from waiting on it.
      if (node) {
        for (const Tensor& in : node->inputs) {
          if (in.defined() && in.requires_grad() && --pending[in.impl()] == 0) {
            if (!keep.count(in.impl())) keep[in.impl()] = in;
            ready.push_back(in.impl());
          }
        }
      }
      continue;
    }
    if (capture && capture->count(t)) (*captured)[t] = g;
    if (!node) {
      if (!capture && t->requires_grad) {
        // A leaf's first gradient is kept as is when nothing else can reach its memory (the
        // usual case: a fresh kernel output, contiguous, with this handle its only owner);
        // anything shared is copied, so in-place updates of .grad (clipping, the optimiser)
        // cannot touch another tensor. Skipping the copy saves a full pass per weight.
        const bool sole_owner = g.impl_ptr().use_count() == 1 &&
                                g.impl()->storage.use_count() == 1 && g.is_contiguous();
        Tensor acc = t->grad        ? add(Tensor(t->grad), g)
                     : create_graph ? g
                     : sole_owner   ? g
                                    : raw::clone(g);
        if (!create_graph) acc = detach(acc);
        t->grad = acc.impl_ptr();
      }
      continue;
    }
    if (!capture && t->retains_grad) {
      t->grad = (t->grad ? detach(add(Tensor(t->grad), g)) : detach(g)).impl_ptr();
    }
    std::vector<Tensor> in_grads;
    {
      ErrorContext context(std::string("backward of ") + node->op);
      in_grads = node->backward(node->inputs, g, self);
    }
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !in.requires_grad()) continue;
      TensorImpl* ip = in.impl();
      if (i < in_grads.size() && in_grads[i].defined()) {
        if (anomaly_mode()) check_finite(in_grads[i], node->op);
        auto it = grads.find(ip);
        if (it == grads.end() || !it->second.defined()) {
          grads[ip] = in_grads[i];
        } else {
          it->second = add(it->second, in_grads[i]);
        }
      }
      if (!keep.count(ip)) keep[ip] = in;
      if (--pending[ip] == 0) ready.push_back(ip);
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad_out, std::optional<bool> retain_graph,
              bool create_graph) {
  if (!root.requires_grad()) {
    throw AutogradError("backward: tensor " + describe(root) +
                        " does not require grad and has no grad_fn (did you forget "
                        "set_requires_grad(true) on a parameter, or run under NoGradGuard?)");
  }
  run({root}, {seed_for(root, grad_out, "backward")}, retain_graph.value_or(create_graph),
      create_graph, nullptr, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options) {
  if (!options.grad_outputs.empty() && options.grad_outputs.size() != outputs.size()) {
    throw ValueError("grad: " + std::to_string(options.grad_outputs.size()) +
                     " seed gradients for " + std::to_string(outputs.size()) + " outputs");
  }
  std::vector<Tensor> roots, seeds;
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].requires_grad()) {
      throw AutogradError("grad: output " + std::to_string(i) + " " + describe(outputs[i]) +
                          " does not require grad");
    }
    roots.push_back(outputs[i]);
    seeds.push_back(seed_for(
        outputs[i], options.grad_outputs.empty() ? Tensor() : options.grad_outputs[i], "grad"));
  }
  std::unordered_set<TensorImpl*> capture;
  for (const Tensor& in : inputs) {
    if (!in.requires_grad()) {
      throw AutogradError("grad: input " + describe(in) + " does not require grad");
    }
    capture.insert(in.impl());
  }
  std::unordered_map<TensorImpl*, Tensor> captured;
  run(roots, seeds, options.retain_graph.value_or(options.create_graph), options.create_graph,
      &capture, &captured);
  std::vector<Tensor> out;
  for (const Tensor& in : inputs) {
    auto it = captured.find(in.impl());
    if (it == captured.end()) {
      if (!options.allow_unused) {
        throw AutogradError("grad: an input " + describe(in) +
                            " is not used by the outputs (set allow_unused)");
      }
      out.emplace_back();
    } else {
      out.push_back(options.create_graph ? it->second : detach(it->second));
    }
  }
  return out;
}

}  // namespace diffvi
