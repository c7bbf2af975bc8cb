// DMVI (Dirmeier & Perez-Cruz 2023): a diffusion model as the variational posterior over a
// model's unconstrained parameters θ, fitted with fit(model, {.method = "dmvi"}).
//
// The sampler is a DPM-Solver++ (order 1 or 2) with learnable Gaussian noise in every step,
// preceded by a full-rank affine map θ = m + L w_0 that full-rank ADVI fits first. Every
// transition is Gaussian given the past, so the forward process as auxiliary model gives an exact
// lower bound on log p(y) for any parameters; loss() is its negative, by default with the
// sticking-the-landing gradient. The derivation, the departures from the paper and its code, and
// the measurements behind the defaults are in docs/dmvi.md.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "diffvi/diffusion/schedules/vp_linear.h"
#include "diffvi/nn/dropout.h"
#include "diffvi/nn/embedding.h"
#include "diffvi/nn/linear.h"
#include "diffvi/nn/norm.h"
#include "diffvi/vi/guides/advi.h"
#include "diffvi/vi/infer/guide.h"

namespace diffvi::vi {

struct DmviOptions {
  static constexpr const char* kTypeName = "DmviOptions";
  // Width of the noise network (the paper: 256). Half the width buys twice the draws per step
  // in less time, which funnel-shaped posteriors need more (docs/dmvi.md).
  int64_t hidden = 128;
  // In training only (the paper: 0.1). With learn_scales, dropout under-disperses the final
  // draws: the learned noise scales shrink to make up for the masks' noise.
  double dropout = 0.0;
  int64_t num_steps = 12;  // T: T − 1 solver steps and the final denoising step
  int order = 1;           // of the stochastic DPM-Solver++ steps (1 or 2, multistep)
  double beta0 = 0.1;      // VP-linear schedule
  double beta1 = 20.0;
  // Time of w_1. The last step w_0 = x̂(w_1) + s_1 z_1 has s_1 ≈ σ_{t_1}: at 0.05 (σ ≈ 0.17)
  // it carries enough noise for the learned scales to shape.
  double t_min = 0.05;
  bool learn_variances = true;  // learn η_k and ν_k (else both fixed at their initial values)
  // ε̂ = σ_t w − α_t F(w, t) instead of σ_t w + F(w, t): the data prediction is then
  // x̂ = α_t w + σ_t F, so a unit of network output moves x̂ by at most one unit at every t
  // (unscaled, it moves x̂ by σ_t/α_t ≈ 160 units at t = 1, where those steps' gradients can
  // swamp Adam's scale for the rest; EDM's preconditioning, Karras et al. 2022, for unit-variance
  // data).
  bool precondition = true;
  // Sticking the landing (Roeder, Wu & Duvenaud 2017): the gradient leaves out the score
  // ∂_φ log q(w; φ) at fixed w, whose mean is zero, so it stays unbiased and its variance vanishes
  // where q is exact. Costs one more network pass (all steps batched) and its backward per
  // training step, and buys more than the same time spent on plain steps. The bound's value is
  // unchanged.
  bool stick_the_landing = true;
  // Learned per-coordinate, state-dependent noise scales (Nichol & Dhariwal 2021 learn the reverse
  // variance Σ_θ(x_t, t) the same way): the network gets a second head g(w_k, t_k) [n, d] and step
  // k's noise is s_k exp(g) z_k instead of s_k z_k. The head starts at zero (so training starts
  // from the same Gaussian); the bound stays exact (the transitions are still Gaussian given the
  // past, with log-density term −Σ_j g_j). Why: funnel-shaped posteriors (a scale σ and the effects
  // it scales) need noise that shrinks with σ, which an isotropic, state-independent s_k cannot
  // give and a mean correction can only approximate.
  bool learn_scales = true;
  // Learned per-coordinate, state-dependent gains on the data prediction: x̂ = α_t e^{a} ⊙ w +
  // σ_t F instead of α_t w + σ_t F, with a(w_k, t_k) a third head (zero at initialisation, so
  // training still starts from the Gaussian; the transitions' form, hence the bound, is
  // unchanged). Why: where a scale coordinate u sets the width v(u) of other coordinates (a
  // funnel), their denoiser is x̂ ≈ w α v / (α² v + σ²), a product of w with a function of u,
  // which an additive correction from one hidden layer represents poorly.
  bool learn_gains = true;
  // θ = m + L w_0 with (m, L) a FullRankNormal's loc and scale_tril(); identity if false.
  bool affine = true;
  // initialize() (called by fit() before the first step) fits the affine map as a full-rank
  // Gaussian by ADVI: advi_steps Adam steps at advi_lr, cosine-decayed to 1%; 0 skips it.
  int64_t advi_steps = 2000;
  double advi_lr = 1e-2;
  enum class Sampler { chain, dpm_solver } sampler = Sampler::chain;
  int solver_steps = 10;  // DPM-Solver evaluations for final draws (sampler = dpm_solver)
  int solver_order = 3;
  DType dtype = DType::f32;
};

// The noise-prediction network: h = Linear(w) + sinusoidal_embedding(1000 t), then
// Linear → GELU → LayerNorm → Dropout → Linear (the last layer zero-initialised) with d outputs
// per head: the correction F, then the log-scales g (learn_scales), then the gains a
// (learn_gains).
class DmviNetwork : public nn::Module {
 public:
  DmviNetwork(int64_t dim, const DmviOptions& options, Generator& init_gen);
  // w [m n, d] in m blocks of n rows, block i at time t[i] (m = t.size()) -> [m n, d]
  // ([m n, 2d] with learn_scales); ShapeError unless m divides the rows.
  Tensor forward(const Tensor& w, const std::vector<double>& t);
  // The dropout generator's counter, so a pass can be replayed with the same masks.
  uint64_t dropout_offset() const { return dropout_gen_.offset(); }
  void set_dropout_offset(uint64_t offset) { dropout_gen_.set_state(dropout_gen_.seed(), offset); }

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

  // Draws from the chain (sampler = chain) or the DPM-Solver ODE sampler; dropout is always
  // off here.
  Tensor rsample(int64_t n, Generator& gen) override;
  std::pair<Tensor, Tensor> rsample_and_log_prob(int64_t n, Generator& gen) override;
  bool has_log_prob() const override { return false; }
  Tensor log_prob(const Tensor& z) override;  // ValueError: q(θ) is an intractable marginal
  // −L from n draws through the chain (dropout as the module's training mode says).
  Tensor loss(const LogDensityFn& log_p, int64_t n, Generator& gen) override;
  // L (dropout off, no gradient) from n draws, evaluated in chunks of `chunk`.
  BoundEstimate bound(const LogDensityFn& log_p, int64_t n, Generator& gen, int64_t chunk = 500);

  // The noise prediction ε̂(w, t) = σ_t w − α_t F(w, t) (σ_t w + F without `precondition`), with
  // learn_gains minus (α_t²/σ_t)(e^{a(w, t)} − 1) ⊙ w, in the chain's coordinates.
  Tensor noise_prediction(const Tensor& w, double t);
  // θ = m + L w_0 (identity without the affine map).
  Tensor to_theta(const Tensor& w0) const;
  // L [d, d] of the affine map (differentiable; requires options().affine).
  Tensor scale_tril() const;
  // Fits the affine map as full-rank ADVI with the chain at ε̂ = σ_t w (docs/dmvi.md).
  void initialize(const LogDensityFn& log_p, int64_t n, Generator& gen) override;

  const DmviOptions& options() const { return options_; }
  const std::vector<double>& times() const { return t_; }  // t_0 = 0, t_1 = t_min, ..., t_T = 1
  const std::shared_ptr<const diffusion::VPLinear>& schedule() const { return schedule_; }

 private:
  // ε̂ [m n, d] for w [m n, d] in m blocks of n rows at times[i] (see noise_prediction), and the
  // log-scale head g [m n, d] (undefined without learn_scales): one network pass.
  std::pair<Tensor, Tensor> predict(const Tensor& w, const std::vector<double>& times);
  // Runs the chain for n draws from w_T: θ [n, d] and, when asked, log r(w_{1:T}|θ) −
  // log q(θ, w_{1:T}) per draw [n]. gen = nullptr sets every noise draw z_k to zero.
  std::pair<Tensor, Tensor> chain(Tensor w, Generator* gen, bool with_density);
  Tensor solver_sample(int64_t n, Generator& gen);
  // For sticking the landing: a term whose gradient is ∂_φ log q(w_{0:T}) at the chain's states
  // `visited` (w_k, detached) and noise z_k, k = T..1, per draw [n] (see dmvi.cpp).
  Tensor score_of_log_q(const std::vector<Tensor>& visited, const std::vector<Tensor>& noise,
                        uint64_t dropout_offset, const Tensor& c_w_all, const Tensor& c_x_all,
                        const Tensor& sd_all);

  DmviOptions options_;
  std::shared_ptr<const diffusion::VPLinear> schedule_;
  std::shared_ptr<DmviNetwork> net_;
  Tensor neg_h_, ratio_, alpha_prev_, sig2_prev_, sig2_, var1_;  // per-step constants [T]
  Tensor rho_;  // ρ [T]: η_k = exp(ρ_k) (index k − 1; unused for k = 1)
  Tensor nu_;   // ν [T]: variance factors exp(ν_k)
  std::shared_ptr<FullRankNormal> affine_;          // θ = loc + L w_0 (when options.affine)
  std::vector<double> t_, alpha_, sigma_, lambda_;  // on the grid, index k = 0..T
  std::vector<double> a_, s2_;  // forward step k: w_k = a_k w_{k-1} + sqrt(s2_k) z
};

}  // namespace diffvi::vi
