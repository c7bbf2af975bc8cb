#include "diffvi/nn/sequential.h"

#include <string>

namespace diffvi::nn {

Sequential::Sequential(std::initializer_list<ModulePtr> modules) : Sequential() {
  for (const ModulePtr& m : modules) append(m);
}

void Sequential::append(const ModulePtr& module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(module);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const ModulePtr& m : modules_) h = (*m)(h);
  return h;
}

const ModulePtr& Sequential::operator[](size_t i) const {
  if (i >= modules_.size()) {
    throw IndexError("Sequential: index " + std::to_string(i) + " out of range for " +
                     std::to_string(modules_.size()) + " modules");
  }
  return modules_[i];
}

}  // namespace diffvi::nn
