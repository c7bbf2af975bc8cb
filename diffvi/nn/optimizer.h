// Optimizer base: parameter groups with per-group lr and weight decay, a global step counter,
// per-parameter state slots (e.g. "exp_avg"), and export/import of all of it as a TensorDict for
// bit-exact resume. Keys: "step" (i64 scalar), "param_groups.<g>.lr" and
// "param_groups.<g>.weight_decay" (f64 scalars), "state.<i>.<slot>" with i the parameter's index
// over all groups in order (state not yet created is simply absent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diffvi/nn/tensor_dict.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::nn {

// A group as given to an optimizer; unset lr / weight_decay take the optimizer's defaults.
struct ParamGroup {
  std::vector<Tensor> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

// Splits named parameters (those requiring grad) into {decay: rank >= 2, no_decay: rank <= 1 —
// biases and norm scales}, the second with weight_decay = 0; the first keeps the default.
std::vector<ParamGroup> split_decay_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_parameters);

class Optimizer {
 public:
  // A group after construction: every field resolved.
  struct Group {
    std::vector<Tensor> params;
    double lr;
    double weight_decay;
    double initial_lr;  // the lr at construction; schedules scale it
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient (parameters without one are skipped).
  virtual void step() = 0;
  // Drops (or zeroes) every parameter's gradient.
  void zero_grad(bool set_to_none = true);

  std::vector<Group>& param_groups() { return groups_; }
  const std::vector<Group>& param_groups() const { return groups_; }
  // Sets every group's lr.
  void set_lr(double lr);
  // Steps taken so far (the bias-correction step of the next Adam update is step_count() + 1).
  int64_t step_count() const { return step_; }

  // All state as named tensors (clones: later steps do not change a returned dict).
  TensorDict state_dict() const;
  // Restores state_dict()'s output into an optimizer built over the same parameter groups.
  // Mis-shaped keys raise ShapeError; missing required or unexpected keys ValueError, all named.
  void load_state_dict(const TensorDict& dict);

  const std::string& name() const { return name_; }

 protected:
  Optimizer(std::string name, std::vector<ParamGroup> groups, double default_lr,
            double default_weight_decay, std::vector<std::string> slot_names);
  // State slot `slot` of the i-th parameter overall (undefined until created).
  Tensor& state(size_t index, size_t slot) { return state_[index][slot]; }
  // The state slot, created as zeros like the parameter if undefined.
  Tensor& state_or_zeros(size_t index, size_t slot);
  // Overall index of group g's first parameter.
  size_t group_offset(size_t g) const { return offsets_[g]; }

  int64_t step_ = 0;

 private:
  std::string name_;
  std::vector<Group> groups_;
  std::vector<size_t> offsets_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> state_;
};

}  // namespace diffvi::nn
