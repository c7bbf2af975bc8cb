// TensorDict: an ordered list of (name, tensor) pairs — the exchange format of module, optimizer
// and EMA state (the checkpoint layer writes it as safetensors; names are dotted paths as in
// PyTorch's state_dict). Plus the key check every load_state_dict shares, so missing, unexpected
// and mis-shaped keys are all reported by name in one error.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "diffvi/tensor/tensor.h"

namespace diffvi::nn {

using TensorDict = std::vector<std::pair<std::string, Tensor>>;

// The tensor stored under `name`, or an undefined tensor when absent.
Tensor find_tensor(const TensorDict& dict, const std::string& name);

// What a non-strict load found (strict loads throw instead).
struct LoadReport {
  std::vector<std::string> missing;     // expected but absent from the given dict
  std::vector<std::string> unexpected;  // given but not expected
};

// Compares `given` against `expected` (names and shapes). Throws ShapeError naming every
// mis-shaped key (with both shapes); when `strict`, throws ValueError naming every missing and
// unexpected key (and any mis-shaped ones). `what` names the loader, e.g.
// "Module::load_state_dict".
LoadReport check_state_keys(const TensorDict& expected, const TensorDict& given, bool strict,
                            const std::string& what);

// Copies `src` into `dst` in place (values only, converting dtype/device; no autograd history).
void copy_values(const Tensor& dst, const Tensor& src);

}  // namespace diffvi::nn
