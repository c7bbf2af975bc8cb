#include "diffvi/nn/module.h"

#include <functional>
#include <unordered_set>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {
namespace {

// The module whose forward is running in this thread: a nested call pushes only the part of its
// path below the caller's, so ErrorContext's joined labels spell the full path once.
thread_local const Module* g_active = nullptr;

std::string join_path(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string call_label(const Module& m) {
  const std::string& path = m.path();
  if (g_active == nullptr) return path;
  const std::string& outer = g_active->path();
  if (outer.empty()) return path;
  if (path.size() > outer.size() && path.compare(0, outer.size(), outer) == 0 &&
      path[outer.size()] == '.') {
    return path.substr(outer.size() + 1);
  }
  return path == outer ? "" : path;
}

// Replaces t's data (storage, layout, dtype, device) by conv(t)'s, keeping the handle, its
// requires_grad and its gradient (converted too).
void convert_in_place(const Tensor& t, const std::function<Tensor(const Tensor&)>& conv) {
  TensorImpl& dst = *t.impl();
  const Tensor c = conv(t);
  if (!c.is_same(t)) {
    const TensorImpl& src = *c.impl();
    dst.storage = src.storage;
    dst.shape = src.shape;
    dst.strides = src.strides;
    dst.offset = src.offset;
    dst.dtype = src.dtype;
    dst.device = src.device;
  }
  if (dst.grad) dst.grad = conv(Tensor(dst.grad)).impl_ptr();
}

}  // namespace

Module::CallScope::CallScope(const Module& m) : previous_(g_active), context_(call_label(m)) {
  g_active = &m;
}
Module::CallScope::~CallScope() { g_active = previous_; }

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Tensor Module::forward(const Tensor& /*x*/) {
  throw ValueError(type_name_ + ": forward(Tensor) is not implemented by this module");
}

Tensor Module::operator()(const Tensor& x) {
  CallScope scope(*this);
  return forward(x);
}

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty() || name.find('.') != std::string::npos) {
    throw ValueError(type_name_ + ": " + what + " name '" + name +
                     "' must be non-empty and contain no '.'");
  }
  auto taken = [&](const auto& list) {
    for (const auto& entry : list) {
      if (entry.first == name) return true;
    }
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_)) {
    throw ValueError(type_name_ + ": cannot register " + what + " '" + name +
                     "': the name is already taken");
  }
}

Tensor Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "parameter");
  if (!tensor.defined()) throw ValueError(type_name_ + ": parameter '" + name + "' is undefined");
  if (!tensor.is_leaf()) tensor = detach(tensor);
  tensor.set_requires_grad(requires_grad);
  parameters_.emplace_back(name, tensor);
  return tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor tensor) {
  check_new_name(name, "buffer");
  if (!tensor.defined()) throw ValueError(type_name_ + ": buffer '" + name + "' is undefined");
  buffers_.emplace_back(name, tensor);
  return tensor;
}

void Module::register_module_impl(const std::string& name, const ModulePtr& module) {
  check_new_name(name, "submodule");
  if (!module) throw ValueError(type_name_ + ": submodule '" + name + "' is null");
  if (module.get() == this) throw ValueError(type_name_ + ": a module cannot contain itself");
  children_.emplace_back(name, module);
  module->set_path(join_path(path_, name));
}

void Module::set_path(const std::string& path) {
  path_ = path;
  for (auto& [name, child] : children_) child->set_path(join_path(path_, name));
}

void Module::set_name(const std::string& name) { set_path(name); }

void Module::collect(const std::string& prefix, bool recurse, bool buffers,
                     std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [name, t] : buffers ? buffers_ : parameters_) {
    out.emplace_back(join_path(prefix, name), t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->collect(join_path(prefix, name), true, buffers, out);
  }
}

namespace {
// Keeps the first name of a tensor registered under several (shared weights), as PyTorch does.
std::vector<std::pair<std::string, Tensor>> dedupe(std::vector<std::pair<std::string, Tensor>> in) {
  std::unordered_set<const TensorImpl*> seen;
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& entry : in) {
    if (seen.insert(entry.second.impl()).second) out.push_back(std::move(entry));
  }
  return out;
}
std::vector<Tensor> values(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<Tensor> out;
  out.reserve(named.size());
  for (const auto& entry : named) out.push_back(entry.second);
  return out;
}
}  // namespace

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, false, out);
  return dedupe(std::move(out));
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return values(named_parameters(recurse));
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", recurse, true, out);
  return dedupe(std::move(out));
}

std::vector<Tensor> Module::buffers(bool recurse) const { return values(named_buffers(recurse)); }

std::vector<std::pair<std::string, ModulePtr>> Module::named_children() const { return children_; }

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  for (const auto& entry : children_) out.push_back(entry.second);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, Module*>> out;
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    out.emplace_back(prefix, const_cast<Module*>(&m));
    for (const auto& [name, child] : m.children_) walk(join_path(prefix, name), *child);
  };
  walk("", *this);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) {
    if (!trainable_only || p.requires_grad()) n += p.numel();
  }
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& entry : children_) entry.second->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (Tensor& p : parameters()) {
    if (set_to_none) {
      p.set_grad(Tensor());
    } else if (p.grad().defined()) {
      raw::fill_(p.grad(), 0.0);
    }
  }
}

void Module::to(Device device) {
  auto conv = [device](const Tensor& t) { return raw::to(t, device); };
  for (const Tensor& t : parameters()) convert_in_place(t, conv);
  for (const Tensor& t : buffers()) convert_in_place(t, conv);
}

void Module::to(DType dtype) {
  auto conv = [dtype](const Tensor& t) { return is_floating(t.dtype()) ? raw::to(t, dtype) : t; };
  for (const Tensor& t : parameters()) convert_in_place(t, conv);
  for (const Tensor& t : buffers()) convert_in_place(t, conv);
}

TensorDict Module::state_dict() const {
  TensorDict out;
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    for (const auto& [name, t] : m.parameters_)
      out.emplace_back(join_path(prefix, name), detach(t));
    for (const auto& [name, t] : m.buffers_) out.emplace_back(join_path(prefix, name), detach(t));
    for (const auto& [name, child] : m.children_) walk(join_path(prefix, name), *child);
  };
  walk("", *this);
  return out;
}

LoadReport Module::load_state_dict(const TensorDict& dict, bool strict) {
  const TensorDict own = state_dict();
  LoadReport report = check_state_keys(own, dict, strict, type_name_ + "::load_state_dict");
  for (const auto& [name, dst] : own) {
    const Tensor src = find_tensor(dict, name);
    if (src.defined()) copy_values(dst, src);
  }
  return report;
}

void Module::append_str(std::string& out, int indent) const {
  const std::string extra = extra_repr();
  out += type_name_ + "(";
  if (children_.empty()) {
    out += extra + ")";
    return;
  }
  const std::string pad(indent + 2, ' ');
  out += "\n";
  if (!extra.empty()) out += pad + extra + "\n";
  for (const auto& [name, child] : children_) {
    out += pad + "(" + name + "): ";
    child->append_str(out, indent + 2);
    out += "\n";
  }
  out += std::string(indent, ' ') + ")";
}

std::string Module::str() const {
  std::string out;
  append_str(out, 0);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.str(); }

}  // namespace diffvi::nn
