#include "diffvi/nn/optimizer.h"

#include <unordered_map>
#include <utility>

#include "diffvi/tensor/ops.h"

namespace diffvi::nn {

std::vector<ParamGroup> split_decay_groups(
    const std::vector<std::pair<std::string, Tensor>>& named_parameters) {
  ParamGroup decay, no_decay;
  no_decay.weight_decay = 0.0;
  for (const auto& [name, p] : named_parameters) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).params.push_back(p);
  }
  return {decay, no_decay};
}

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, double default_lr,
                     double default_weight_decay, std::vector<std::string> slot_names)
    : name_(std::move(name)), slot_names_(std::move(slot_names)) {
  size_t total = 0;
  // A parameter listed twice (in one group or two) would be stepped twice per step() and hold
  // two state slots; where it was seen first, as (group, index), names both places.
  std::unordered_map<const TensorImpl*, std::pair<size_t, size_t>> seen;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    ParamGroup& g = groups[gi];
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      const Tensor& p = g.params[pi];
      if (!p.defined() || !is_floating(p.dtype()) || !p.is_leaf()) {
        throw ValueError(name_ + ": parameters must be defined floating leaf tensors");
      }
      if (!p.is_contiguous()) throw ValueError(name_ + ": parameters must be contiguous");
      const auto [it, fresh] = seen.try_emplace(p.impl(), gi, pi);
      if (!fresh) {
        throw ValueError(name_ + ": parameter " + std::to_string(pi) + " of group " +
                         std::to_string(gi) + " (" + describe(p) + ") is already parameter " +
                         std::to_string(it->second.second) + " of group " +
                         std::to_string(it->second.first) + "; list each parameter once");
      }
    }
    const double lr = g.lr.value_or(default_lr);
    if (!(lr >= 0)) throw ValueError(name_ + ": lr must be >= 0, got " + std::to_string(lr));
    offsets_.push_back(total);
    total += g.params.size();
    groups_.push_back({std::move(g.params), lr, g.weight_decay.value_or(default_weight_decay), lr});
  }
  state_.assign(total, std::vector<Tensor>(slot_names_.size()));
}

Tensor& Optimizer::state_or_zeros(size_t index, size_t slot) {
  Tensor& s = state_[index][slot];
  if (!s.defined()) {
    size_t g = 0;
    while (g + 1 < offsets_.size() && offsets_[g + 1] <= index) ++g;
    const Tensor& p = groups_[g].params[index - offsets_[g]];
    s = zeros(p.shape(), TensorOptions(p.dtype()).set_device(p.device()));
  }
  return s;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (Group& g : groups_) {
    for (Tensor& p : g.params) {
      if (set_to_none) {
        p.set_grad(Tensor());
      } else if (p.grad().defined()) {
        raw::fill_(p.grad(), 0.0);
      }
    }
  }
}

void Optimizer::set_lr(double lr) {
  for (Group& g : groups_) g.lr = lr;
}

TensorDict Optimizer::state_dict() const {
  TensorDict out;
  out.emplace_back("step", scalar_tensor(static_cast<double>(step_), TensorOptions(DType::i64)));
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    out.emplace_back(prefix + "lr", scalar_tensor(groups_[g].lr, TensorOptions(DType::f64)));
    out.emplace_back(prefix + "weight_decay",
                     scalar_tensor(groups_[g].weight_decay, TensorOptions(DType::f64)));
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    for (size_t s = 0; s < slot_names_.size(); ++s) {
      if (state_[i][s].defined()) {
        out.emplace_back("state." + std::to_string(i) + "." + slot_names_[s],
                         raw::clone(state_[i][s]));
      }
    }
  }
  return out;
}

void Optimizer::load_state_dict(const TensorDict& dict) {
  // Expected keys: the scalars (required) and every state slot (optional), with their shapes.
  TensorDict expected;
  expected.emplace_back("step", empty({}, TensorOptions(DType::i64)));
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    expected.emplace_back(prefix + "lr", empty({}, TensorOptions(DType::f64)));
    expected.emplace_back(prefix + "weight_decay", empty({}, TensorOptions(DType::f64)));
  }
  const size_t required = expected.size();
  std::vector<const Tensor*> params;
  for (const Group& g : groups_) {
    for (const Tensor& p : g.params) params.push_back(&p);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    for (const std::string& slot : slot_names_) {
      // A shape-only placeholder: a zero-stride expand of a scalar costs no memory.
      expected.emplace_back(
          "state." + std::to_string(i) + "." + slot,
          raw::expand(empty({}, TensorOptions(params[i]->dtype())), params[i]->shape()));
    }
  }
  const std::string what = name_ + "::load_state_dict";
  LoadReport report = check_state_keys(expected, dict, false, what);
  std::vector<std::string> missing;
  for (const std::string& key : report.missing) {
    for (size_t k = 0; k < required; ++k) {
      if (expected[k].first == key) missing.push_back(key);
    }
  }
  if (!missing.empty() || !report.unexpected.empty()) {
    std::string msg = what + ":";
    auto list = [&](const char* label, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      msg += std::string(" ") + label + " keys: ";
      for (size_t k = 0; k < keys.size(); ++k) msg += (k ? ", " : "") + keys[k];
      msg += ";";
    };
    list("missing", missing);
    list("unexpected", report.unexpected);
    msg.pop_back();
    throw ValueError(msg);
  }
  step_ = static_cast<int64_t>(find_tensor(dict, "step").item());
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    groups_[g].lr = find_tensor(dict, prefix + "lr").item();
    groups_[g].weight_decay = find_tensor(dict, prefix + "weight_decay").item();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    for (size_t s = 0; s < slot_names_.size(); ++s) {
      const Tensor src = find_tensor(dict, "state." + std::to_string(i) + "." + slot_names_[s]);
      state_[i][s] =
          src.defined() ? raw::clone(raw::to(raw::to(src, params[i]->device()), params[i]->dtype()))
                        : Tensor();
    }
  }
}

}  // namespace diffvi::nn
