// Training checkpoints on top of safetensors: named tensor groups stored under dotted prefixes
// ("model.", "optim.", "ema."), a step counter, Generator states and free-form string metadata —
// everything needed to resume training bit-exactly. Groups are plain TensorDicts, so
// Module::state_dict(), optimizer state and EMA shadows plug in without this file knowing them.
//
// File layout (an ordinary safetensors file, readable from Python):
//   "<group>.<name>"     the group's tensors, e.g. "model.layers.0.weight"
//   "step"               I64 scalar: the step counter
//   "rng.<name>"         I64 [2]: a Generator's (seed, offset), bit-cast from uint64
//   __metadata__         {"format": "diffvi.checkpoint", ...user metadata}
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "diffvi/nn/tensor_dict.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::nn {

class Checkpoint {
 public:
  // Adds `tensors` under "<prefix>.<name>". ValueError if the prefix is empty, contains a dot, is
  // reserved ("step", "rng") or was already added.
  void add_group(const std::string& prefix, const TensorDict& tensors);
  // The tensors stored under "<prefix>.", prefix stripped, in file order (empty when absent).
  TensorDict group(const std::string& prefix) const;
  // Like group(), but IOError naming the file when the group is absent.
  TensorDict require_group(const std::string& prefix) const;
  bool has_group(const std::string& prefix) const;

  void set_step(int64_t step) {
    step_ = step;
    has_step_ = true;
  }
  bool has_step() const { return has_step_; }
  // The step counter; IOError naming the file when the checkpoint has none.
  int64_t step() const;

  // Records `gen`'s (seed, offset) under `name` (e.g. "default", "dropout", "data").
  void set_generator(const std::string& name, const Generator& gen);
  // Restores the state recorded under `name` into `gen`; IOError naming the file when absent.
  void restore_generator(const std::string& name, Generator& gen) const;
  bool has_generator(const std::string& name) const { return rng_.count(name) != 0; }

  // Free-form string metadata (the key "format" is reserved for the file marker).
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Every tensor as written to the file (groups, step, generator states).
  TensorDict to_tensors() const;

  // Writes the checkpoint atomically (see save_safetensors). IOError on failure.
  void save(const std::string& path) const;
  // Reads a checkpoint written by save(). IOError naming the file for unreadable or corrupt
  // files and for reserved entries ("step", "rng.*") of the wrong dtype or shape.
  static Checkpoint load(const std::string& path);

  // Where the checkpoint was loaded from ("" if built in memory); used in error messages.
  const std::string& source() const { return source_; }

 private:
  std::string describe() const;

  std::map<std::string, TensorDict> groups_;
  std::map<std::string, std::pair<uint64_t, uint64_t>> rng_;
  std::map<std::string, std::string> metadata_;
  int64_t step_ = 0;
  bool has_step_ = false;
  std::string source_;
};

}  // namespace diffvi::nn
