// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
#pragma once

#include <vector>

#include "diffvi/tensor/tensor.h"

namespace diffvi::nn {

// Scales every defined gradient of `params` by min(1, max_norm / (norm + 1e-6)), where norm is
// the L2 norm of all gradients together, and returns that norm (before clipping; accumulated in
// f64). Parameters without a gradient are ignored. ValueError for max_norm < 0.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

}  // namespace diffvi::nn
