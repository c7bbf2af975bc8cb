#include "diffvi/autograd/node.h"

#include <cmath>

#include "diffvi/tensor/ops.h"

namespace diffvi {
namespace {
thread_local bool t_grad_enabled = true;
bool g_anomaly = false;

bool all_finite(const Tensor& t) {
  if (!is_floating(t.dtype()) || t.numel() == 0) return true;
  for (double v : t.to_vector<double>()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}
}  // namespace

void Node::release() {
  backward = nullptr;
  inputs.clear();
}

Node::~Node() {
  // Steal the inputs of nodes that would die with us, so destroying a 10^5-long chain walks a
  // heap stack instead of recursing through shared_ptr destructors.
  std::vector<Tensor> stack = std::move(inputs);
  backward = nullptr;
  while (!stack.empty()) {
    Tensor t = std::move(stack.back());
    stack.pop_back();
    if (!t.defined() || t.impl_ptr().use_count() != 1) continue;
    auto& fn = t.impl()->grad_fn;
    if (!fn || fn.use_count() != 1) continue;
    auto* node = dynamic_cast<Node*>(fn.get());
    if (!node) continue;
    for (Tensor& in : node->inputs) stack.push_back(std::move(in));
    node->inputs.clear();
    node->backward = nullptr;
  }
}

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard(bool enabled) : previous_(t_grad_enabled) {
  t_grad_enabled = enabled;
}
EnableGradGuard::~EnableGradGuard() { t_grad_enabled = previous_; }

void set_anomaly_mode(bool enabled) { g_anomaly = enabled; }
bool anomaly_mode() { return g_anomaly; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

Tensor record(const char* op, Tensor out, std::vector<Tensor> inputs, BackwardFn backward) {
  if (g_anomaly && !all_finite(out)) {
    std::string shapes;
    for (const Tensor& in : inputs) shapes += (shapes.empty() ? "" : ", ") + describe(in);
    throw ValueError(std::string("anomaly: op '") + op + "' produced NaN/Inf (inputs: " + shapes +
                     "; output " + describe(out) + ")");
  }
  if (!t_grad_enabled) return out;
  bool any = false;
  for (const Tensor& in : inputs) any = any || (in.defined() && in.requires_grad());
  if (!any) return out;
  for (const Tensor& in : inputs) {
    if (in.defined() &&
        out.is_same(in)) {  // a no-op returned its input: give the output its own impl
      out = raw::as_strided(out, out.shape(), out.strides(), out.offset());
      break;
    }
  }
  auto node = std::make_shared<Node>();
  node->op = op;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

}  // namespace diffvi
