// Exponential moving average of a module's parameters (shadow = d·shadow + (1-d)·param), with a
// guard that swaps the averages into the live module for evaluation and restores the trained
// values when it goes out of scope.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "diffvi/nn/module.h"

namespace diffvi::nn {

class EMA {
 public:
  // Tracks every parameter of `module` (shadows start as copies). The module must outlive the EMA
  // and keep its parameter set; to(dtype/device) it before building the EMA.
  explicit EMA(const Module& module);

  // shadow = decay·shadow + (1 - decay)·param for every parameter. ValueError unless decay in
  // [0,1].
  void update(double decay);
  int64_t num_updates() const { return updates_; }

  // While alive, the module's parameters hold the averages; the destructor restores them.
  class SwapGuard {
   public:
    explicit SwapGuard(EMA& ema);
    ~SwapGuard();
    SwapGuard(SwapGuard&& other) noexcept;
    SwapGuard(const SwapGuard&) = delete;
    SwapGuard& operator=(const SwapGuard&) = delete;
    SwapGuard& operator=(SwapGuard&&) = delete;

   private:
    EMA* ema_;
    std::vector<Tensor> backup_;
  };
  // Swaps the averages in: `{ auto guard = ema.swap_in(); evaluate(model); }`.
  [[nodiscard]] SwapGuard swap_in() { return SwapGuard(*this); }
  // Copies the averages into the live parameters for good (e.g. before export).
  void copy_to_module();

  // The averages by the parameters' dotted names (clones), plus "num_updates" (i64 scalar).
  TensorDict state_dict() const;
  // Restores state_dict()'s output; mis-shaped/missing/unexpected keys raise, all named.
  void load_state_dict(const TensorDict& dict);
  // The shadow tensors by name (live handles).
  const std::vector<std::pair<std::string, Tensor>>& shadow() const { return shadow_; }

 private:
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> shadow_;
  int64_t updates_ = 0;
};

}  // namespace diffvi::nn
