// nn::Module: the base of every layer, in the shape of the PyTorch C++ frontend. A module owns
// registered parameters, buffers and submodules (held by std::shared_ptr), all kept in
// registration order so names, iteration and state dicts are deterministic. A registered tensor
// is a handle sharing its TensorImpl with the module's member, so to(dtype/device) and
// load_state_dict update members in place.
//
// Every module knows its dotted path (set when it is registered, re-prefixed when its parent is
// registered in turn); operator() runs forward() inside an ErrorContext so an error raised deep in
// a network names the module, e.g. "net.layers.2: linear: ...". The root's path is empty unless
// set_name() gives it one.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "diffvi/nn/tensor_dict.h"
#include "diffvi/tensor/device.h"
#include "diffvi/tensor/dtype.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::nn {

class Module;
using ModulePtr = std::shared_ptr<Module>;

class Module {
 public:
  // `type_name` is what the printed tree shows, e.g. "Linear".
  explicit Module(std::string type_name = "Module");
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // --- forward ---------------------------------------------------------------------------------
  // The computation of a single-input module. The base throws ValueError (not implemented).
  virtual Tensor forward(const Tensor& x);
  // forward(x) inside this module's error context.
  Tensor operator()(const Tensor& x);
  // Runs fn() inside this module's error context (for modules whose forward takes other
  // arguments): `return call([&] { return forward(x, t); });`.
  template <class Fn>
  decltype(auto) call(Fn&& fn) {
    CallScope scope(*this);
    return fn();
  }

  // --- registration ----------------------------------------------------------------------------
  // Registers a parameter (requires_grad set as asked) and returns the handle to keep as a member.
  // ValueError for a duplicate or dotted name or an undefined tensor.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  // Registers a buffer: state that is saved and moved with the module but not optimised.
  Tensor register_buffer(const std::string& name, Tensor tensor);
  // Registers a submodule and sets its path (and its descendants') under this module's.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module_impl(name, module);
    return module;
  }

  // --- traversal (registration order, depth first) --------------------------------------------
  // Parameters with dotted names relative to this module ("layers.0.weight").
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  // Direct submodules.
  std::vector<std::pair<std::string, ModulePtr>> named_children() const;
  std::vector<ModulePtr> children() const;
  // This module (name "") and all descendants with dotted names, depth first (non-owning).
  std::vector<std::pair<std::string, Module*>> named_modules() const;
  // Total element count of the parameters (trainable only when asked).
  int64_t num_parameters(bool trainable_only = false) const;

  // --- mode and gradients ----------------------------------------------------------------------
  // Sets training mode recursively (Dropout reads it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops every parameter's gradient (set_to_none) or zeroes it in place.
  void zero_grad(bool set_to_none = true);

  // --- conversion ------------------------------------------------------------------------------
  // Moves every parameter, buffer and gradient to `device` in place (handles stay valid;
  // requires_grad is kept).
  void to(Device device);
  // Converts every floating parameter, buffer and gradient to `dtype` in place.
  void to(DType dtype);

  // --- state -----------------------------------------------------------------------------------
  // Parameters then buffers, per module in registration order, by dotted name. The tensors share
  // data with the module (detached handles); clone them to snapshot.
  TensorDict state_dict() const;
  // Copies values from `dict` into the registered tensors (converting dtype). Mis-shaped keys
  // raise ShapeError; when `strict`, missing or unexpected keys raise ValueError — all named in one
  // message, and nothing is copied if anything is wrong.
  LoadReport load_state_dict(const TensorDict& dict, bool strict = true);

  // --- naming and printing ---------------------------------------------------------------------
  const std::string& type_name() const { return type_name_; }
  // The dotted path used in error messages ("" for an unnamed root).
  const std::string& path() const { return path_; }
  // Names a root module (its path prefixes every descendant's).
  void set_name(const std::string& name);
  // One-line description of this module's own configuration, e.g. "in=3, out=4, bias=true".
  virtual std::string extra_repr() const { return ""; }
  // The module tree, PyTorch style: "Sequential(\n  (0): Linear(in=2, out=3)\n ...)".
  std::string str() const;

 private:
  class CallScope {  // the ErrorContext of one call (relative to the calling module's)
   public:
    explicit CallScope(const Module& m);
    ~CallScope();

   private:
    const Module* previous_;
    ErrorContext context_;
  };

  void register_module_impl(const std::string& name, const ModulePtr& module);
  void check_new_name(const std::string& name, const char* what) const;
  void set_path(const std::string& path);
  void collect(const std::string& prefix, bool recurse, bool buffers,
               std::vector<std::pair<std::string, Tensor>>& out) const;
  void append_str(std::string& out, int indent) const;

  std::string type_name_;
  std::string path_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace diffvi::nn
