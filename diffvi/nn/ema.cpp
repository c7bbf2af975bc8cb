#include "diffvi/nn/ema.h"

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {

EMA::EMA(const Module& module) : params_(module.named_parameters()) {
  for (const auto& [name, p] : params_) shadow_.emplace_back(name, raw::clone(p));
}

void EMA::update(double decay) {
  if (!(decay >= 0 && decay <= 1)) {
    throw ValueError("EMA::update: decay must be in [0, 1], got " + std::to_string(decay));
  }
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& s = shadow_[i].second;
    raw::copy_(s, raw::binary(BinaryOp::add, raw::binary_scalar(BinaryOp::mul, s, decay),
                              raw::binary_scalar(BinaryOp::mul, params_[i].second, 1.0 - decay)));
  }
  ++updates_;
}

EMA::SwapGuard::SwapGuard(EMA& ema) : ema_(&ema) {
  for (size_t i = 0; i < ema.params_.size(); ++i) {
    backup_.push_back(raw::clone(ema.params_[i].second));
    copy_values(ema.params_[i].second, ema.shadow_[i].second);
  }
}

EMA::SwapGuard::SwapGuard(SwapGuard&& other) noexcept
    : ema_(other.ema_), backup_(std::move(other.backup_)) {
  other.ema_ = nullptr;
}

EMA::SwapGuard::~SwapGuard() {
  if (ema_ == nullptr) return;
  for (size_t i = 0; i < backup_.size(); ++i) copy_values(ema_->params_[i].second, backup_[i]);
}

void EMA::copy_to_module() {
  for (size_t i = 0; i < params_.size(); ++i) copy_values(params_[i].second, shadow_[i].second);
}

TensorDict EMA::state_dict() const {
  TensorDict out;
  for (const auto& [name, s] : shadow_) out.emplace_back(name, raw::clone(s));
  out.emplace_back("num_updates",
                   scalar_tensor(static_cast<double>(updates_), TensorOptions(DType::i64)));
  return out;
}

void EMA::load_state_dict(const TensorDict& dict) {
  TensorDict expected = shadow_;
  expected.emplace_back("num_updates", empty({}, TensorOptions(DType::i64)));
  check_state_keys(expected, dict, true, "EMA::load_state_dict");
  for (const auto& [name, s] : shadow_) copy_values(s, find_tensor(dict, name));
  updates_ = static_cast<int64_t>(find_tensor(dict, "num_updates").item());
}

}  // namespace diffvi::nn
