#include "diffvi/tensor/backend.h"

#include <map>
#include <mutex>
#include <vector>

#include "diffvi/tensor/errors.h"

namespace diffvi {
namespace {

struct Registry {
  std::mutex mutex;
  std::vector<Backend*> all;
  std::map<DeviceType, Backend*> defaults;
};
Registry& registry() {
  static Registry* r = new Registry();  // leaked: backends outlive static destructors
  return *r;
}
thread_local std::map<DeviceType, Backend*>* t_override = nullptr;

}  // namespace

bool Buf::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

const char* unary_name(UnaryOp op) {
  static const char* names[] = {
      "identity", "neg", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "sign",
      "square", "reciprocal", "sin", "cos", "tanh", "sigmoid", "softplus", "relu", "gelu_erf",
      "gelu_tanh", "silu", "erf", "pow", "add_scalar", "mul_scalar", "clamp", "rsub_scalar",
      "rdiv_scalar"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                "eq",  "ne",  "lt",  "le",  "gt",  "ge"};
  return names[static_cast<int>(op)];
}

void register_backend(Backend* backend, bool make_default) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.all.push_back(backend);
  auto it = r.defaults.find(backend->device_type());
  if (make_default || it == r.defaults.end()) r.defaults[backend->device_type()] = backend;
}

Backend* find_backend(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (Backend* b : r.all) {
    if (name == b->name()) return b;
  }
  return nullptr;
}

Backend& backend_for(DeviceType type) {
  if (t_override) {
    auto it = t_override->find(type);
    if (it != t_override->end() && it->second) return *it->second;
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.defaults.find(type);
  if (it == r.defaults.end()) {
    throw DeviceError(std::string("no backend is available for device type ") +
                      (type == DeviceType::cpu ? "cpu" : "cuda") +
                      (type == DeviceType::cuda
                           ? " (diffvi was built without CUDA, or no CUDA device is present)"
                           : ""));
  }
  return *it->second;
}

BackendGuard::BackendGuard(Backend& backend) : type_(backend.device_type()) {
  if (!t_override) t_override = new std::map<DeviceType, Backend*>();
  auto it = t_override->find(type_);
  previous_ = it == t_override->end() ? nullptr : it->second;
  (*t_override)[type_] = &backend;
}

namespace {
Backend& checked_find(const std::string& name) {
  Backend* b = find_backend(name);
  if (!b) throw ValueError("BackendGuard: no backend named '" + name + "'");
  return *b;
}
}  // namespace

BackendGuard::BackendGuard(const std::string& name) : BackendGuard(checked_find(name)) {}

BackendGuard::~BackendGuard() { (*t_override)[type_] = previous_; }

}  // namespace diffvi
