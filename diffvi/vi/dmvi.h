// DMVI (Dirmeier & Perez-Cruz 2023): a diffusion model as the variational posterior over a
// model's unconstrained parameter vector θ ∈ R^d, fitted with fit(model, {.method = "dmvi"}).
//
// The variational family is the marginal q(θ) of a discrete reverse chain on a grid
// 0 = t_0 < t_1 < ... < t_T = 1 of a VP-linear schedule (β0 0.1, β1 20: α_1² ≈ 4e-5, so the
// chain starts from noise, unlike the reference code's 50/100 discrete β-steps):
//   q(θ, w_{1:T}) = N(w_T; 0, I) Π_{k=1}^{T} N(w_{k-1}; μ_k(w_k), v_k I),   θ = w_0,
// with μ_k the DDPM posterior mean of the forward process given the data prediction
// x̂ = (w_k − σ_{t_k} ε̂(w_k, t_k)) / α_{t_k} of the noise network ε̂, and v_k the forward
// posterior variance (for k = 1, where it is 0, the forward variance σ²_{t_1}), each times a
// learnable factor exp(ρ_k) initialised to 1 (see below). The grid is uniform in the half log-SNR
// λ between t_1 = t_min and 1.
//
// Objective (REFERENCE §4): the forward process r(w_{1:T} | θ) = Π r(w_k | w_{k-1}) is the
// auxiliary model, which gives a valid lower bound on the log evidence for any network:
//   log p(y) ≥ L = E_q[ log p(y, θ) + log r(w_{1:T} | θ) − log q(θ, w_{1:T}) ].
// Every term is tractable because the reverse transitions are Gaussian; the draws are
// reparameterised through the whole chain (w_{k-1} = μ_k + sqrt(v_k) z_k), so gradients flow
// through every network evaluation. loss() = −L estimated from n draws (the model's log density
// on a minibatch is scaled by N/|b| by the model API, so it stays unbiased).
//
// Departures from the paper and its code, and why:
//  - The paper trains through a DPM-Solver sampler, whose marginal has no tractable density, and
//    its code does not optimise a bound at all. We train on the Gaussian ancestral chain above,
//    which is what makes L a bound. By default final draws come from the same chain, so they are
//    exact draws from the q that L bounds. With sampler = dpm_solver, final draws instead solve
//    the probability-flow ODE of the learned ε̂ from N(0, I) with DPM-Solver (fewer, larger
//    steps); that samples the marginals implied by the learned score, which approximate q but
//    are not q, so L is not a bound for them (has_log_prob() is false either way).
//  - The step variances carry a learnable scale exp(ρ_k): any Gaussian transition keeps L valid,
//    and with T ≈ 16 steps fixed DDPM variances leave a visible gap to log p(y).
//  - An elementwise affine map θ = m + s ⊙ w_0 (learnable m, log s, initialised to the identity)
//    follows the chain: with r(w_{1:T} | θ) taken at w_0 = (θ − m)/s the bound stays valid
//    (it gains Σ log s). It puts the chain in standardised coordinates, so the network only has
//    to learn the posterior's shape, not its location and scale (a 0.03-sd posterior at 1.5 from
//    the origin otherwise takes thousands of steps at lr 1e-3). The noise prediction is
//    ε̂ = σ_t w + network(w, t) with the network's last layer zero-initialised: σ_t w is the
//    exact ε-prediction for w_0 ~ N(0, I), so training starts from q ≈ N(0, I), not from a
//    random map (a random ε̂ gives bounds near −10⁷ at initialisation).
//  - Dropout (p = 0.1) is on during training only. The bound is reported and final draws are
//    made with dropout off (training with dropout optimises the average bound over masks).
//  - T is small (16 by default) for speed; the likelihood is never reused per data point and
//    the entropy has the right sign.
#pragma once

#include <memory>
#include <utility>

#include "diffvi/diffusion/vp_linear.h"
#include "diffvi/nn/dropout.h"
#include "diffvi/nn/embedding.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/norm.h"
#include "diffvi/vi/guide.h"

namespace diffvi::vi {

struct DmviOptions {
  int64_t hidden = 256;     // width of the noise network
  double dropout = 0.1;     // in training only
  int64_t num_steps = 16;   // T, reverse transitions in the chain
  double beta0 = 0.1;       // VP-linear schedule
  double beta1 = 20.0;
  double t_min = 1e-3;      // time of w_1
  bool learn_variances = true;
  // θ = shift + exp(log_scale) ⊙ w_0 with learnable shift and log_scale [d], each the
  // parameter times affine_gain (so Adam at lr 1e-3 moves them 10x faster than the network).
  bool affine = true;
  double affine_gain = 10.0;
  enum class Sampler { ancestral, dpm_solver } sampler = Sampler::ancestral;
  int solver_steps = 10;    // DPM-Solver evaluations for final draws (sampler = dpm_solver)
  int solver_order = 3;
  DType dtype = DType::f32;
};

// The noise-prediction network ε̂(w, t): h = Linear(w) + sinusoidal_embedding(1000 t), then
// Linear → GELU → LayerNorm → Dropout → Linear_d.
class DmviNetwork : public nn::Module {
 public:
  DmviNetwork(int64_t dim, const DmviOptions& options, Generator& init_gen);
  // w [n, d], one time t for all rows -> ε̂ [n, d].
  Tensor forward(const Tensor& w, double t);

 private:
  Generator dropout_gen_;  // owned, so the module never points at a dead generator
  std::shared_ptr<nn::Linear> in_, hidden_, out_;
  std::shared_ptr<nn::SinusoidalTimeEmbedding> embed_;
  std::shared_ptr<nn::LayerNorm> norm_;
  std::shared_ptr<nn::Dropout> drop_;
  DType dtype_;
};

// A Monte-Carlo estimate of the bound L with its standard error.
struct BoundEstimate {
  double value = 0;
  double std_error = 0;
};

class DmviGuide : public Guide {
 public:
  DmviGuide(int64_t dim, DmviOptions options, Generator& gen);

  // Draws from the chain (sampler = ancestral, reparameterised) or the DPM-Solver ODE sampler;
  // dropout is always off here.
  Tensor rsample(int64_t n, Generator& gen) override;
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  bool has_log_prob() const override { return false; }
  Tensor log_prob(const Tensor& z) override;  // ValueError: q(θ) is an intractable marginal
  // −L from n draws through the chain (dropout as the module's training mode says).
  Tensor loss(const LogDensityFn& log_p, int64_t n, Generator& gen) override;
  // L (dropout off, no gradient) from n draws, evaluated in chunks of `chunk`.
  BoundEstimate bound(const LogDensityFn& log_p, int64_t n, Generator& gen, int64_t chunk = 500);

  const DmviOptions& options() const { return options_; }
  const std::vector<double>& times() const { return t_; }  // t_0 = 0, ..., t_T = 1

 private:
  // Runs the chain for n draws: θ [n, d] and, when asked, log r(w_{1:T}|θ) − log q(θ, w_{1:T})
  // per draw [n].
  std::pair<Tensor, Tensor> chain(int64_t n, Generator& gen, bool with_density);
  Tensor solver_sample(int64_t n, Generator& gen);

  DmviOptions options_;
  std::shared_ptr<const diffusion::VPLinear> schedule_;
  std::shared_ptr<DmviNetwork> net_;
  Tensor log_var_scale_;      // ρ [T] (parameter when learnable)
  Tensor shift_, log_scale_;  // the affine map of w_0 to θ (when options.affine)
  std::vector<double> t_, alpha_, sigma_;  // on the grid, index k = 0..T
  std::vector<double> a_, s2_;              // forward step k: w_k = a_k w_{k-1} + sqrt(s2_k) z
  std::vector<double> c_x_, c_w_, v_;       // reverse step k: mean c_x x̂ + c_w w_k, variance v
};

}  // namespace diffvi::vi
