// The exact posterior of the paper's hierarchical models 1–5, which are Gaussian given their
// (at most two) scale parameters: quadrature over the log-scales, Gaussian algebra for the rest.
#pragma once

#include <cstdint>
#include <vector>

namespace diffvi::repro::dmvi {

// G groups of J coefficients: σ_γ ~ HalfNormal(1) (else 1), μ_γ ~ N(0, 1) (else 0),
// γ_i ~ N(μ_γ, σ_γ²), σ_β ~ HalfNormal(1) (else 1), β_ij ~ N(γ_i, σ_β²),
// σ ~ HalfNormal(1) (else 1), y_n ~ N(β, σ² I_K) with K = G J.
struct HierSpec {
  int groups, per_group;
  bool mu_gamma, sigma_gamma, sigma_beta, sigma_y;
};

// Posterior moments in the model's unconstrained coordinates (scales as log σ), in the order the
// model visits its sites: sigma_gamma, mu_gamma, gamma[G], sigma_beta, beta[K], sigma (each
// only where present).
struct ExactPosterior {
  std::vector<double> mean, sd;
  double log_evidence = 0;
};

// y is [n, K] row-major. ValueError if the spec has more than two free scales or y is not n·K.
//
// Given the scales s, the non-centred x = (μ_γ, g, e) ~ N(0, I) (γ = μ_γ + σ_γ g, β = γ + σ_β e)
// has β = B x, so with A = I + (n/σ²) BᵀB and b = (n/σ²) Bᵀȳ, p(x | y, s) = N(A⁻¹b, A⁻¹) and
// log p(y | s) = −½ log det A + ½ bᵀA⁻¹b − Σ|y_n|²/(2σ²) − nK/2 log 2πσ².
// The scales' posterior is then a 1- or 2-d density in u = log σ, summed on a uniform grid
// (a coarse pass finds where it is within e⁻³⁰ of its peak, a fine pass of `points` per axis
// integrates there; Riemann sums of smooth, fast-decaying densities converge very fast).
ExactPosterior hierarchical_exact(const HierSpec& spec, const std::vector<double>& y, int64_t n,
                                  int points = 240);

}  // namespace diffvi::repro::dmvi
