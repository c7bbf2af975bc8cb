#include "diffvi/tensor/backend.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "diffvi/tensor/errors.h"

namespace diffvi {
namespace {

constexpr int kDeviceTypes = 2;

struct Registry {
  std::mutex mutex;
  std::vector<Backend*> all;
  // Read on every op without the lock: written only while backends register (static init).
  std::atomic<Backend*> defaults[kDeviceTypes] = {};
};
Registry& registry() {
  static Registry* r = new Registry();  // leaked: backends outlive static destructors
  return *r;
}
thread_local Backend* t_override[kDeviceTypes] = {};

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

#define DIFFVI_NAME(e, name) name,
const char* unary_name(UnaryOp op) {
  static const char* const names[] = {DIFFVI_UNARY_OPS(DIFFVI_NAME)};
  return names[static_cast<int>(op)];
}
const char* binary_name(BinaryOp op) {
  static const char* const names[] = {DIFFVI_BINARY_OPS(DIFFVI_NAME)};
  return names[static_cast<int>(op)];
}
const char* reduce_name(ReduceOp op) {
  static const char* const names[] = {DIFFVI_REDUCE_OPS(DIFFVI_NAME)};
  return names[static_cast<int>(op)];
}
const char* activation_name(Activation act) {
  static const char* const names[] = {DIFFVI_ACTIVATIONS(DIFFVI_NAME)};
  return names[static_cast<int>(act)];
}
#undef DIFFVI_NAME

void register_backend(Backend* backend, bool make_default) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.all.push_back(backend);
  auto& slot = r.defaults[static_cast<int>(backend->device_type())];
  if (make_default || slot.load() == nullptr) slot.store(backend);
}

Backend* find_backend(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (Backend* b : r.all) {
    if (name == b->name()) return b;
  }
  return nullptr;
}

std::vector<Backend*> registered_backends() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.all;
}

Backend& backend_for(DeviceType type) {
  const int index = static_cast<int>(type);
  if (Backend* b = t_override[index]) return *b;
  Backend* b = registry().defaults[index].load(std::memory_order_acquire);
  if (!b) {
    throw DeviceError(std::string("no backend is available for device type ") +
                      (type == DeviceType::cpu ? "cpu" : "cuda") +
                      (type == DeviceType::cuda
                           ? " (diffvi was built without CUDA, or no CUDA device is present)"
                           : ""));
  }
  return *b;
}

BackendGuard::BackendGuard(Backend& backend) : type_(backend.device_type()) {
  previous_ = t_override[static_cast<int>(type_)];
  t_override[static_cast<int>(type_)] = &backend;
}

namespace {
Backend& checked_find(const std::string& name) {
  Backend* b = find_backend(name);
  if (!b) throw ValueError("BackendGuard: no backend named '" + name + "'");
  return *b;
}
}  // namespace

BackendGuard::BackendGuard(const std::string& name) : BackendGuard(checked_find(name)) {}

BackendGuard::~BackendGuard() { t_override[static_cast<int>(type_)] = previous_; }

}  // namespace diffvi
