// The method registry: fit() looks a method up by name and runs what the entry says, so fit()
// itself knows no method. Each method registers itself from its own folder (guides/, mcmc/,
// methods/<m>/) with its default shared settings, a validator for its own options and either a
// guide builder (variational methods) or a sampler. A user's method registers the same way.
//
// A method with options of its own registers a typed entry:
//   register_method<MyOptions>("mine", defaults, validate, make_guide);
// and users pass FitOptions().set_method_options(MyOptions{...}).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diffvi/tensor/generator.h"
#include "diffvi/vi/infer/fit_options.h"
#include "diffvi/vi/infer/guide.h"
#include "diffvi/vi/infer/method_options.h"
#include "diffvi/vi/infer/sampler_result.h"
#include "diffvi/vi/model/model.h"

namespace diffvi::vi {

// Builds a guide for a model of dimension dim from the resolved settings and the method's own
// options (null = its defaults).
using MakeGuideFn = std::function<std::shared_ptr<Guide>(int64_t dim, const FitSettings& settings,
                                                         const MethodOptions* own, Generator& gen)>;
// Runs a sampler on the model.
using RunSamplerFn = std::function<std::shared_ptr<const SamplerResult>(
    const Model& model, const FitSettings& settings, const MethodOptions* own)>;

struct MethodSpec {
  FitSettings defaults;  // the shared settings a caller leaves unset (seed, batch_size ignored)
  // ValueError, naming the field, for bad options of the method's own (null = its defaults).
  std::function<void(const MethodOptions* own)> validate;
  MakeGuideFn make_guide;    // set for a variational method
  RunSamplerFn run_sampler;  // set for a sampler (exactly one of the two)
};

// Registers `name` (replacing any previous entry). ValueError unless exactly one of make_guide
// and run_sampler is set.
void register_method(const std::string& name, MethodSpec spec);

// A variational method without options of its own: the factory gets the resolved settings.
using GuideFactory =
    std::function<std::shared_ptr<Guide>(int64_t dim, const FitSettings& settings, Generator& gen)>;
void register_method(const std::string& name, GuideFactory factory, FitSettings defaults = {});

// A variational method with its own options T (see method_options.h for what T needs).
template <class T>
void register_method(
    const std::string& name, FitSettings defaults, std::function<void(const T&)> validate,
    std::function<std::shared_ptr<Guide>(int64_t, const FitSettings&, const T&, Generator&)>
        make_guide) {
  MethodSpec spec;
  spec.defaults = defaults;
  spec.validate = [name, validate](const MethodOptions* own) {
    if (validate) validate(options_cast<T>(own, name));
  };
  spec.make_guide = [name, make_guide](int64_t dim, const FitSettings& s, const MethodOptions* own,
                                       Generator& gen) {
    return make_guide(dim, s, options_cast<T>(own, name), gen);
  };
  register_method(name, std::move(spec));
}

// Every registered method, sorted by name.
std::vector<std::string> available_methods();
// The method FitOptions::method = "" runs (set by register_builtin_methods; ValueError for a name
// that is not registered when fit() runs).
void set_default_method(const std::string& name);
std::string default_method();
// The entry for `name` ("" = default_method()); ValueError naming the available methods when
// there is none.
MethodSpec find_method(const std::string& name);
// The settings fit(model, options) runs with: options over the method's defaults.
FitSettings resolve(const FitOptions& options);

// Registers the methods that ship with the library; called once by the registry itself before
// its first use (defined in vi/builtin_methods.cpp, the one list of built-in methods).
void register_builtin_methods();

}  // namespace diffvi::vi
