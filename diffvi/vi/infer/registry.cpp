// The method registry. The built-in methods are registered by an explicit call
// (register_builtin_methods, the first time the registry is used) rather than by static objects
// in each method's .cpp: such objects run only if the linker keeps their object file, which a
// static build drops when nothing references it, and their order against other statics is
// unspecified. The explicit list has neither problem and still leaves each method's
// registration code in its own folder.
#include "diffvi/vi/infer/registry.h"

#include <map>
#include <mutex>

namespace diffvi::vi {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, MethodSpec> methods;
  std::string default_method;
};

Registry& registry() {
  static Registry r;
  static std::once_flag once;
  // register_builtin_methods() calls register_method(), which comes back here: that nested call
  // must not wait on the once_flag its own thread holds.
  static thread_local bool registering = false;
  if (!registering) {
    std::call_once(once, [] {
      registering = true;
      try {
        register_builtin_methods();
      } catch (...) {
        registering = false;
        throw;
      }
      registering = false;
    });
  }
  return r;
}

}  // namespace

FitSettings resolve(const FitOptions& o, const FitSettings& defaults) {
  FitSettings s = defaults;
  s.steps = o.steps.value_or(defaults.steps);
  s.lr = o.lr.value_or(defaults.lr);
  s.num_particles = o.num_particles.value_or(defaults.num_particles);
  s.weight_decay = o.weight_decay.value_or(defaults.weight_decay);
  s.final_lr_fraction = o.final_lr_fraction.value_or(defaults.final_lr_fraction);
  s.clip_grad_norm = o.clip_grad_norm.value_or(defaults.clip_grad_norm);
  if (o.dtype) s.dtype = o.dtype;
  s.seed = o.seed;
  s.batch_size = o.batch_size;
  return s;
}

void register_method(const std::string& name, MethodSpec spec) {
  if (name.empty()) throw ValueError("register_method: the name is empty");
  if (static_cast<bool>(spec.make_guide) == static_cast<bool>(spec.run_sampler)) {
    throw ValueError("register_method('" + name +
                     "'): set exactly one of make_guide and run_sampler");
  }
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.methods[name] = std::move(spec);
}

void register_method(const std::string& name, GuideFactory factory, FitSettings defaults) {
  if (!factory) throw ValueError("register_method('" + name + "'): the factory is empty");
  MethodSpec spec;
  spec.defaults = defaults;
  spec.make_guide = [factory](int64_t dim, const FitSettings& s, const MethodOptions*,
                              Generator& gen) { return factory(dim, s, gen); };
  register_method(name, std::move(spec));
}

std::vector<std::string> available_methods() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, spec] : r.methods) names.push_back(name);
  return names;
}

void set_default_method(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.default_method = name;
}

std::string default_method() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.default_method;
}

MethodSpec find_method(const std::string& requested) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const std::string& name = requested.empty() ? r.default_method : requested;
  auto it = r.methods.find(name);
  if (it == r.methods.end()) {
    std::string known;
    for (const auto& [n, spec] : r.methods) known += (known.empty() ? "" : ", ") + n;
    throw ValueError("fit: unknown method '" + name + "' (available: " + known + ")");
  }
  return it->second;
}

FitSettings resolve(const FitOptions& options) {
  return resolve(options, find_method(options.method).defaults);
}

}  // namespace diffvi::vi
