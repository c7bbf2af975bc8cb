// DMVI (Dirmeier & Perez-Cruz 2023): a diffusion model as the variational posterior over a
// model's unconstrained parameter vector θ ∈ R^d, fitted with fit(model, {.method = "dmvi"}).
//
// The sampler IS a DPM-Solver with noise. On a grid 1 = t_T > ... > t_1 = t_min (T − 1 steps
// uniform in the half log-SNR λ, solvers::time_steps, VP-linear schedule β 0.1…20 so
// α_1² ≈ 4e-5: the chain starts from noise, unlike the reference code's 50/100 β-steps) the
// variational family is the marginal q(θ) of
//   w_T ~ N(0, I),  w_{k-1} = m_k(w_k, w_{k+1}) + s_k z_k  (k = T..2),
//   w_0 = x̂(w_1, t_1) + s_1 z_1,  θ = m + L w_0 (a learnt affine map, below),
// where m_k is one step t_k → t_{k-1} of the SDE form of DPM-Solver++ (data prediction; Lu et
// al. 2022, arXiv 2211.01095; k-diffusion's dpmpp_2m_sde), h = λ_{k-1} − λ_k, η_k = exp(ρ_k):
//   m_k = (σ_{k-1}/σ_k) e^{−η_k h} w_k + c_k x̂_k,   c_k = α_{k-1} (1 − e^{−(1+η_k) h}),
//         [+ c_k (x̂_k − x̂_{k+1}) / (2 r), r = h_prev / h: the 2M correction, order = 2 only]
//   s_k² = exp(ν_k) · ( σ²_{k-1} (1 − e^{−2 η_k h}) + c_k² σ_k² ),
//   [× exp(2 g(w_k, t_k)) per coordinate: learned state-dependent scales, learn_scales]
// x̂ = (w − σ_t ε̂)/α_t the data prediction of the noise network ε̂. The first variance term is the
// SDE solver's own noise; the second is the spread of x̂ that the step carries forward,
// c_k² Var(x_0 | w_k) with Var = σ_k² as for a standard-normal w_0 (Analytic-DPM's optimal
// reverse variance, Bao et al. 2022); without it a 12-step chain cannot be exact even for a
// Gaussian and loses ~2 nats per dimension. η_k, ν_k are learnable (initialised to 1 and 0).
// At η = 1, ν = 0, g = 0 and ε̂ = σ_t w, every order-1 transition is exactly the reverse conditional
// of the forward process for w_0 ~ N(0, I) (tested: the bound is 0 to round-off on N(0, I)). As η,
// ν → −∞ in log the chain becomes the deterministic DPM-Solver++ (order 1 = DDIM, order 2 =
// ++2M) of solvers/ with T − 1 steps and denoise_to_zero (tested: it matches
// solvers::DpmSolver to round-off). The last step is that denoising step plus noise:
// w_0 = x̂(w_1, t_1) + exp(ν_1/2) σ_{t_1} z_1. Every transition is Gaussian given the past, so
// q(θ, w_{1:T}) has a tractable density and the draws are reparameterised through every network
// evaluation (training backpropagates through the whole stochastic solver run).
//
// Objective (REFERENCE §4): the forward process r(w_{1:T} | θ) = Π r(w_k | w_{k-1}) at
// w_0 = L⁻¹(θ − m) is the auxiliary model, which gives a valid lower bound on the
// log evidence for ANY network and any η:
//   log p(y) ≥ L = E_q[ log p(y, θ) + log r(w_{1:T} | θ) − log q(θ, w_{1:T}) ].
// (The order-2 mean depends on w_{k+1} as well as w_k, so the reverse chain is not Markov; the
// joint density is still the product of the Gaussian conditionals, so L stays exact.)
// loss() = −L estimated from n draws; the model's log density on a minibatch is scaled by N/|b|
// by the model API, so it stays unbiased. Its gradient is by default the sticking-the-landing
// estimator (Roeder et al. 2017): the reparameterised gradient through every step minus the
// score ∂_φ log q(w; φ) at the drawn path, which has mean zero; where q matches the posterior of
// the path exactly the estimator has zero variance (tested). The score comes from one extra
// network pass over all steps' detached states at once, with the chain's dropout masks.
//
// Departures from the paper and its code, and why:
//  - The paper trains through a deterministic DPM-Solver (order 3, 10 steps), whose marginal has
//    no tractable density, and its code does not optimise a bound at all. We add learnable
//    Gaussian noise to each solver step (order ≤ 2 multistep, so no extra evaluations), which is
//    what makes L computable and a bound; final draws come from the same chain, so they are
//    exact draws from the q that L bounds. Order 1 (stochastic DDIM) is the default: at
//    initialisation the order-2 multistep correction is not exact for N(0, I) (bound −16 nats at
//    t_min = 1e-3, −1.3 at 0.05, on a 4-d standard normal where order 1 gives 0) and it fitted far
//    worse (hierarchical 5: −1508 vs −1478 after 1500 steps), since the chain is trained as a
//    model, not as an ODE integrator whose order matters. Sampler::dpm_solver instead solves the
//    probability-flow ODE of the learned ε̂ with solvers::DpmSolver (noise-free, order 3 by
//    default): a fast approximation of the learned marginals that is not q, so L says nothing
//    about it (has_log_prob() is false either way).
//  - A full-rank affine map θ = m + L w_0 (learnable m and lower-triangular L with positive
//    diagonal e^{ω}) follows the chain: with r(w_{1:T} | θ) taken at w_0 = L⁻¹(θ − m) the bound
//    stays valid (it gains Σ ω). Before the chain is trained, initialize() fits it as the
//    library's full-rank ADVI (FullRankNormal, advi_steps at advi_lr): with ε̂ = σ_t w the chain
//    is exactly N(0, I) in w, so at that point L IS the full-rank ADVI ELBO. The chain then works
//    in whitened coordinates and the network only learns the posterior's non-Gaussian shape, not
//    its location, scales and correlations. (Learning the map with the chain at the network's
//    lr 1e-3 is far too slow for a 0.02-sd coordinate 1.5 from the origin, and a gain on the
//    map's lr makes it jitter: hierarchical 2 ended 0.6 nats below mean-field ADVI that way, and
//    a diagonal map leaves correlations — which an isotropic reverse step cannot follow — to
//    the network.) The noise prediction is
//    ε̂ = σ_t w − α_t network(w, t) with the network's last layer zero-initialised: σ_t w is the
//    exact ε-prediction for w_0 ~ N(0, I), so training starts from q = the ADVI Gaussian, not
//    from a random map (a random ε̂ gives bounds near −10⁷ at initialisation); the α_t factor is
//    the `precondition` option below; `learn_gains` adds −(α_t²/σ_t)(e^a − 1) ⊙ w, which makes
//    the data prediction x̂ = α_t e^a ⊙ w + σ_t F.
//  - No dropout by default (the paper: 0.1; the `dropout` option keeps it, in training only,
//    with the bound reported and final draws made with dropout off). Training with masks
//    optimises the average bound over masks, and the mask noise widens the training draws, so
//    the learned noise scales shrink to compensate and the dropout-free draws come out narrower
//    than the posterior (see `dropout` below).
//  - Continuous VP-linear schedule instead of the paper's discrete linear β (which never reaches
//    noise with 50/100 steps); T = 12 transitions by default (11 solver steps + denoising, about
//    the paper's 10 solver evaluations); the likelihood is never reused per data point, the data
//    are not minibatched unless the model's plates ask for it (then scaled by N/|b|), and the
//    entropy has the right sign.
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
  // in less time, which the funnels need more (hierarchical 5, N = 100, 5 seeds, no dropout,
  // errors against the exact posterior and fit time: 256 × 16 draws .053 / .086 in 14.7 s,
  // 128 × 32 .049 / .084 in 13.0 s, 128 × 48 .047 / .082 in 17.6 s), and draws twice as fast.
  int64_t hidden = 128;
  // In training only (the paper: 0.1). With learn_scales, dropout 0.1 under-disperses the draws
  // (hierarchical 5, N = 100, 5 seeds, width 256: errors .056 / .090 and an MSE 11% below
  // that of NUTS's draws, against .053 / .086 and 10% below without it) and costs the masks.
  double dropout = 0.0;
  int64_t num_steps = 12;  // T: T − 1 solver steps and the final denoising step
  int order = 1;           // of the stochastic DPM-Solver++ steps (1 or 2, multistep)
  double beta0 = 0.1;      // VP-linear schedule
  double beta1 = 20.0;
  // Time of w_1. The last step w_0 = x̂(w_1) + s_1 z_1 has s_1 ≈ σ_{t_1}: at 0.05 (σ ≈ 0.17)
  // it carries enough noise for the learned scales to shape (hierarchical 5, N = 100, 5 seeds,
  // with learn_scales: errors .060 / .094 at 1e-3, .056 / .090 at 0.05; hierarchical 3
  // .034 / .050 against .030 / .046).
  double t_min = 0.05;
  bool learn_variances = true;  // learn η_k and ν_k (else both fixed at their initial values)
  // ε̂ = σ_t w − α_t F(w, t) instead of σ_t w + F(w, t): the data prediction is then
  // x̂ = α_t w + σ_t F, so a unit of network output moves x̂ by at most one unit at every t
  // (unscaled, it moves x̂ by σ_t/α_t ≈ 160 units at t = 1, where those steps' gradients can
  // swamp Adam's scale for the rest; EDM's preconditioning, Karras et al. 2022, for unit-variance
  // data). Measured gain is small: hierarchical 5, one seed, sd error 0.062 -> 0.060.
  bool precondition = true;
  // Sticking the landing (Roeder, Wu & Duvenaud 2017): the gradient leaves out the score
  // ∂_φ log q(w; φ) at fixed w, whose mean is zero, so it stays unbiased and its variance vanishes
  // where q is exact. Costs one more network pass (all steps batched) and its backward per
  // training step, ~+50% time (4.1 -> 6.4 ms a step on hierarchical 5), and buys more than
  // that: on hierarchical 5 (N = 100, 5 seeds) 3000 steps reach errors .070/.107 against
  // .076/.114 for 5000 plain steps. The bound's value is unchanged.
  bool stick_the_landing = true;
  // Learned per-coordinate, state-dependent noise scales (Nichol & Dhariwal 2021 learn the reverse
  // variance Σ_θ(x_t, t) the same way): the network gets a second head g(w_k, t_k) [n, d] and step
  // k's noise is s_k exp(g) z_k instead of s_k z_k. The head starts at zero (so training starts
  // from the same Gaussian); the bound stays exact (the transitions are still Gaussian given the
  // past, with log-density term −Σ_j g_j). Why: funnel-shaped posteriors (a scale σ and the effects
  // it scales) need noise that shrinks with σ, which an isotropic, state-independent s_k cannot
  // give and a mean correction can only approximate. Measured (hierarchical 5, N = 100, 5 seeds,
  // 2500 STL steps, t_min 1e-3): errors against the exact posterior .070 / .108 -> .060 / .094,
  // for +9% fit time.
  bool learn_scales = true;
  // Learned per-coordinate, state-dependent gains on the data prediction: x̂ = α_t e^{a} ⊙ w +
  // σ_t F instead of α_t w + σ_t F, with a(w_k, t_k) a third head (zero at initialisation, so
  // training still starts from the Gaussian; the transitions' form, hence the bound, is
  // unchanged). Why: where a scale coordinate u sets the width v(u) of other coordinates (a
  // funnel), their denoiser is x̂ ≈ w α v / (α² v + σ²), a product of w with a function of u,
  // which an additive correction from one hidden layer represents poorly. Measured
  // (repro-dmvi, N = 100, 5 seeds, errors against the exact posterior): hierarchical 5
  // .047 / .082 -> .037 / .076 (and .036 / .074 with lr 2e-3, repro-dmvi's default now), h3
  // .027 / .040 -> .024 / .039, h1, h2, h4 and mean unchanged.
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
  // Fits the affine map as full-rank ADVI with the chain at ε̂ = σ_t w (see the header).
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
