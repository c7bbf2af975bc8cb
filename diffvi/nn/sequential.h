// Sequential: a chain of single-input modules, registered under their indices ("0", "1", ...),
// so parameter names match torch.nn.Sequential's ("0.weight", "2.bias").
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

#include "diffvi/nn/module.h"

namespace diffvi::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<ModulePtr> modules);

  // Appends (and registers) a module; returns it with its own type.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    append(module);
    return module;
  }

  // Each module's operator() in turn, so an error names the failing element's path.
  Tensor forward(const Tensor& x) override;

  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  // IndexError when out of range.
  const ModulePtr& operator[](size_t i) const;
  std::vector<ModulePtr>::const_iterator begin() const { return modules_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return modules_.end(); }

 private:
  void append(const ModulePtr& module);
  std::vector<ModulePtr> modules_;
};

}  // namespace diffvi::nn
