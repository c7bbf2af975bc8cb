// The forward (noising) process of a VP diffusion and its Gaussian posterior:
//   q(z_t | x) = N(α_t x, σ_t² I),
//   q(z_s | z_t, x) = N(μ_Q, σ_Q² I) for s < t, with α_{t|s} = α_t/α_s,
//   σ²_{t|s} = σ_t² − α²_{t|s} σ_s² = −expm1(2 (log α_t − log α_s)),
//   μ_Q = (α_{t|s} σ_s² / σ_t²) z_t + (α_s σ²_{t|s} / σ_t²) x,  σ_Q² = σ²_{t|s} σ_s² / σ_t².
// Times are tensors of shape [] (one time for all) or [B] (one per leading-dim row of x); they
// broadcast over the remaining dims. All outputs are differentiable in x, z and the times.
#pragma once

#include "diffvi/diffusion/schedules/noise_schedule.h"
#include "diffvi/tensor/generator.h"

namespace diffvi::diffusion {

// Reshapes a [] or [B] time tensor so it broadcasts against `like` ([B, ...]).
// ShapeError for any other shape.
Tensor broadcast_time(const Tensor& t, const Tensor& like);

struct ForwardSample {
  Tensor z;    // α_t x + σ_t ε
  Tensor eps;  // the noise drawn (the ε-prediction target)
};

// Draws z_t ~ q(z_t | x) with noise from `gen`.
ForwardSample sample_forward(const NoiseSchedule& schedule, const Tensor& x, const Tensor& t,
                             Generator& gen);

struct DiagonalGaussian {
  Tensor mean;
  Tensor var;  // broadcasts against mean (one value per time)
};

// The posterior q(z_s | z_t, x) for s < t.
DiagonalGaussian forward_posterior(const NoiseSchedule& schedule, const Tensor& z_t,
                                   const Tensor& x, const Tensor& s, const Tensor& t);

}  // namespace diffvi::diffusion
