// MethodOptions: the options a method owns (its network, chain, sampler settings, ...), carried
// through FitOptions without fit() knowing their types. A method's options stay a plain struct
// (designated initialisers keep working); FitOptions::set_method_options(T{...}) wraps it in a
// MethodOptionsOf<T>, and the method unwraps it with options_cast<T>, which checks the type.
#pragma once

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

#include "diffvi/tensor/errors.h"

namespace diffvi::vi {

class MethodOptions {
 public:
  virtual ~MethodOptions() = default;
  // The wrapped struct's name, for error messages ("MyOptions").
  virtual const char* type_name() const = 0;
};

// T must name itself: `static constexpr const char* kTypeName = "MyOptions";`.
template <class T>
class MethodOptionsOf final : public MethodOptions {
 public:
  explicit MethodOptionsOf(T value) : value_(std::move(value)) {}
  const char* type_name() const override { return T::kTypeName; }
  const T& value() const { return value_; }

 private:
  T value_;
};

template <class T>
std::shared_ptr<const MethodOptions> make_method_options(T value) {
  return std::make_shared<const MethodOptionsOf<T>>(std::move(value));
}

// The options of type T that `given` holds, or T{} (the method's defaults) when it is null.
// ValueError naming the method and both types when `given` holds another method's options.
template <class T>
T options_cast(const MethodOptions* given, const std::string& method) {
  if (given == nullptr) return T{};
  if (const auto* typed = dynamic_cast<const MethodOptionsOf<T>*>(given)) return typed->value();
  throw ValueError("fit: method '" + method + "' takes " + T::kTypeName + ", but was given " +
                   given->type_name());
}

}  // namespace diffvi::vi
