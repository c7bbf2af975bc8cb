// FitOptions: what a call of fit() asks for. Only the settings every variational method shares
// live here; a method's own options (network, chain, sampler, ...) are its own struct, passed with
// set_method_options(). A shared setting left unset takes the method's registered default
// (registry.h), so fit(model, {.method = m}) runs method m with the settings m was tuned with.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "diffvi/tensor/dtype.h"
#include "diffvi/vi/infer/method_options.h"

namespace diffvi::vi {

// The shared settings with every value decided: a method's defaults, and what fit() runs with.
struct FitSettings {
  int64_t steps = 2000;
  double lr = 1e-2;
  int64_t num_particles = 16;  // Monte-Carlo draws per step
  double weight_decay = 0;     // AdamW's decoupled decay
  // Cosine decay of the learning rate to lr · final_lr_fraction over the steps.
  double final_lr_fraction = 0.1;
  double clip_grad_norm = 0;  // global gradient norm; 0 = no clipping
  // Every tensor of the guide in this dtype; unset, the method decides (its own options' dtype,
  // or its default).
  std::optional<DType> dtype;
  // Always the caller's (FitOptions), never a method's default.
  uint64_t seed = 0;
  int64_t batch_size = 0;  // minibatch size for the model's plates (0 = full data)
};

struct FitOptions {
  std::string method;      // a name from available_methods(); empty: default_method()
  uint64_t seed = 0;       // seeds every method
  int64_t batch_size = 0;  // 0 = full data
  // Unset: the method's default (FitSettings shows the generic ones).
  std::optional<int64_t> steps;
  std::optional<double> lr;
  std::optional<int64_t> num_particles;
  std::optional<double> weight_decay;
  std::optional<double> final_lr_fraction;
  std::optional<double> clip_grad_norm;
  std::optional<DType> dtype;
  // The method's own options; null = that method's defaults.
  std::shared_ptr<const MethodOptions> method_options;

  FitOptions& set_method(std::string m) {
    method = std::move(m);
    return *this;
  }
  FitOptions& set_seed(uint64_t s) {
    seed = s;
    return *this;
  }
  FitOptions& set_steps(int64_t s) {
    steps = s;
    return *this;
  }
  FitOptions& set_lr(double v) {
    lr = v;
    return *this;
  }
  FitOptions& set_num_particles(int64_t v) {
    num_particles = v;
    return *this;
  }
  FitOptions& set_batch_size(int64_t v) {
    batch_size = v;
    return *this;
  }
  FitOptions& set_weight_decay(double v) {
    weight_decay = v;
    return *this;
  }
  FitOptions& set_clip_grad_norm(double v) {
    clip_grad_norm = v;
    return *this;
  }
  FitOptions& set_dtype(DType v) {
    dtype = v;
    return *this;
  }
  // e.g. set_method_options(MyOptions{.width = 64}); the method checks the type.
  template <class T>
  FitOptions& set_method_options(T value) {
    method_options = make_method_options(std::move(value));
    return *this;
  }
};

// `options` over `defaults`: each shared setting the caller set wins.
FitSettings resolve(const FitOptions& options, const FitSettings& defaults);

}  // namespace diffvi::vi
