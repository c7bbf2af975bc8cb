// Models as solvers see them, and the one wrapper that converts any parameterisation to the two
// the solvers use (noise prediction ε̂ and data prediction x̂ = (x − σ_t ε̂)/α_t).
//
// A model is any callable (x, t) -> output with x [B, ...] and t [B] (the same time in every
// row); wrap an nn::Module in a lambda. The wrapper counts evaluations (NFE) and records the
// smallest time it was asked for, so callers can check that t = 0 is never evaluated.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "diffvi/diffusion/schedules/noise_schedule.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::solvers {

using Model = std::function<Tensor(const Tensor& x, const Tensor& t)>;

// What the model outputs: ε (noise); x0 (data: ε = (x − α x0)/σ); v (v-prediction:
// ε = α v + σ x); score (∇ log p_t: ε = −σ s).
enum class ModelType { noise, x0, v, score };

// Imagen's dynamic thresholding of a data prediction, as DPM-Solver implements it: per sample,
// s = max(quantile(|x0|, ratio), max_value) and x0 ← clamp(x0, −s, s) / s. Meant for
// pixel-space models with data in [−1, 1]; the threshold s itself carries no gradient.
struct ThresholdOptions {
  double ratio = 0.995;
  double max_value = 1.0;
  ThresholdOptions& set_ratio(double r) {
    ratio = r;
    return *this;
  }
  ThresholdOptions& set_max_value(double m) {
    max_value = m;
    return *this;
  }
};
Tensor dynamic_threshold(const Tensor& x0, const ThresholdOptions& options = {});

class ModelWrapper {
 public:
  ModelWrapper(Model model, std::shared_ptr<const diffusion::NoiseSchedule> schedule,
               ModelType type = ModelType::noise);

  // ε̂(x, t) and x̂(x, t) at one time t for the whole batch; each call is one evaluation.
  Tensor noise(const Tensor& x, double t);
  Tensor data(const Tensor& x, double t);
  // Applies dynamic thresholding to every data prediction (std::nullopt turns it off).
  void set_thresholding(std::optional<ThresholdOptions> options) { threshold_ = options; }

  int nfe() const { return nfe_; }
  void reset_nfe() {
    nfe_ = 0;
    smallest_t_ = 1e300;
  }
  double smallest_t() const { return smallest_t_; }  // over evaluations since reset_nfe()
  const diffusion::NoiseSchedule& schedule() const { return *schedule_; }

 private:
  Tensor call(const Tensor& x, double t);
  Model model_;
  std::shared_ptr<const diffusion::NoiseSchedule> schedule_;
  ModelType type_;
  std::optional<ThresholdOptions> threshold_;
  int nfe_ = 0;
  double smallest_t_ = 1e300;
};

// Classifier-free guidance: one evaluation of `model(x, t, c)` on the batch doubled as
// [cond; uncond], combined as out_u + scale (out_c − out_u). Because the weights sum to one and
// every ModelType converts to ε affinely at fixed (x, t), guiding the raw output is the same as
// guiding ε. cond and uncond are [B, ...] (or [1, ...], broadcast to the batch by the caller).
using ConditionalModel =
    std::function<Tensor(const Tensor& x, const Tensor& t, const Tensor& condition)>;
Model classifier_free_guidance(ConditionalModel model, Tensor condition, Tensor uncondition,
                               double scale);

}  // namespace diffvi::solvers
