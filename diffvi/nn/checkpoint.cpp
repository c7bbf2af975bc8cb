#include "diffvi/nn/checkpoint.h"

#include <bit>

#include "diffvi/nn/safetensors.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::nn {
namespace {

constexpr const char* kFormatKey = "format";
constexpr const char* kFormatValue = "diffvi.checkpoint";
constexpr const char* kStepName = "step";
constexpr const char* kRngPrefix = "rng.";

}  // namespace

std::string Checkpoint::describe() const {
  return source_.empty() ? std::string("checkpoint") : "checkpoint '" + source_ + "'";
}

void Checkpoint::add_group(const std::string& prefix, const TensorDict& tensors) {
  if (prefix.empty() || prefix.find('.') != std::string::npos || prefix == "step" ||
      prefix == "rng") {
    throw ValueError("Checkpoint::add_group: invalid group prefix '" + prefix +
                     "' (non-empty, no dots, not \"step\" or \"rng\")");
  }
  if (!groups_.emplace(prefix, tensors).second) {
    throw ValueError("Checkpoint::add_group: group '" + prefix + "' was already added");
  }
}

TensorDict Checkpoint::group(const std::string& prefix) const {
  const auto it = groups_.find(prefix);
  return it == groups_.end() ? TensorDict{} : it->second;
}

TensorDict Checkpoint::require_group(const std::string& prefix) const {
  const auto it = groups_.find(prefix);
  if (it == groups_.end()) {
    throw IOError(describe() + " has no group '" + prefix + "' (no tensor named '" + prefix +
                  ".*')");
  }
  return it->second;
}

bool Checkpoint::has_group(const std::string& prefix) const { return groups_.count(prefix) != 0; }

int64_t Checkpoint::step() const {
  if (!has_step_) throw IOError(describe() + " has no step counter (tensor 'step')");
  return step_;
}

void Checkpoint::set_generator(const std::string& name, const Generator& gen) {
  if (name.empty()) throw ValueError("Checkpoint::set_generator: empty generator name");
  rng_[name] = {gen.seed(), gen.offset()};
}

void Checkpoint::restore_generator(const std::string& name, Generator& gen) const {
  const auto it = rng_.find(name);
  if (it == rng_.end()) {
    throw IOError(describe() + " has no state for generator '" + name + "' (tensor 'rng." + name +
                  "')");
  }
  gen.set_state(it->second.first, it->second.second);
}

TensorDict Checkpoint::to_tensors() const {
  TensorDict out;
  for (const auto& [prefix, tensors] : groups_) {
    for (const auto& [name, t] : tensors) out.emplace_back(prefix + "." + name, t);
  }
  if (has_step_) {
    out.emplace_back(kStepName, from_vector(std::vector<int64_t>{step_}, Shape{}));
  }
  for (const auto& [name, state] : rng_) {
    out.emplace_back(kRngPrefix + name,
                     from_vector(std::vector<int64_t>{std::bit_cast<int64_t>(state.first),
                                                      std::bit_cast<int64_t>(state.second)},
                                 Shape{2}));
  }
  return out;
}

void Checkpoint::save(const std::string& path) const {
  std::map<std::string, std::string> meta = metadata_;
  meta[kFormatKey] = kFormatValue;
  save_safetensors(path, to_tensors(), meta);
}

Checkpoint Checkpoint::load(const std::string& path) {
  SafetensorsContents contents = load_safetensors(path);
  Checkpoint ck;
  ck.source_ = path;
  ck.metadata_ = std::move(contents.metadata);
  ck.metadata_.erase(kFormatKey);
  for (auto& [name, t] : contents.tensors) {
    if (name == kStepName) {
      if (t.dtype() != DType::i64 || t.numel() != 1) {
        throw IOError("checkpoint '" + path + "': tensor 'step' is " + diffvi::describe(t) +
                      ", expected a single I64 value");
      }
      ck.set_step(t.to_vector<int64_t>()[0]);
    } else if (name.rfind(kRngPrefix, 0) == 0) {
      if (t.dtype() != DType::i64 || t.shape() != Shape{2} || name.size() == 4) {
        throw IOError("checkpoint '" + path + "': tensor '" + name + "' is " + diffvi::describe(t) +
                      ", expected I64 [2] (seed, offset)");
      }
      const std::vector<int64_t> v = t.to_vector<int64_t>();
      ck.rng_[name.substr(4)] = {std::bit_cast<uint64_t>(v[0]), std::bit_cast<uint64_t>(v[1])};
    } else {
      const size_t dot = name.find('.');
      if (dot == std::string::npos || dot == 0) {
        throw IOError("checkpoint '" + path + "': tensor '" + name +
                      "' belongs to no group (expected '<group>.<name>')");
      }
      ck.groups_[name.substr(0, dot)].emplace_back(name.substr(dot + 1), std::move(t));
    }
  }
  return ck;
}

}  // namespace diffvi::nn
