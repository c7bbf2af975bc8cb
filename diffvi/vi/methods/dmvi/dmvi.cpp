// DMVI: the noise network, the reverse chain and its auxiliary-variable bound.
#include "diffvi/vi/methods/dmvi/dmvi.h"

#include <cmath>
#include <string>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/nn/adam.h"
#include "diffvi/nn/init.h"
#include "diffvi/nn/lr_schedule.h"
#include "diffvi/solvers/dpm_solver.h"
#include "diffvi/solvers/time_steps.h"
#include "diffvi/tensor/ops.h"
#include "diffvi/vi/guides/advi.h"

namespace diffvi::vi {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;
}

// --- network -------------------------------------------------------------------------------------
DmviNetwork::DmviNetwork(int64_t dim, const DmviOptions& o, Generator& gen)
    : nn::Module("DmviNetwork"), dropout_gen_(gen.seed() ^ 0x9E3779B97F4A7C15ull), dtype_(o.dtype) {
  const auto lin = nn::LinearOptions().set_dtype(o.dtype);
  in_ = register_module("in", std::make_shared<nn::Linear>(dim, o.hidden, lin, gen));
  embed_ = register_module("embed", std::make_shared<nn::SinusoidalTimeEmbedding>(o.hidden));
  hidden_ = register_module(
      "hidden",
      std::make_shared<nn::Linear>(
          o.hidden, o.hidden, nn::LinearOptions(lin).set_activation(Activation::gelu_erf), gen));
  norm_ = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{o.hidden}));
  drop_ = register_module("drop", std::make_shared<nn::Dropout>(o.dropout, dropout_gen_));
  out_ = register_module(
      "out",
      std::make_shared<nn::Linear>(
          o.hidden, dim * (1 + (o.learn_scales ? 1 : 0) + (o.learn_gains ? 1 : 0)), lin, gen));
  // The correction starts at zero (see DmviGuide::chain).
  nn::init::zeros_(out_->weight);
  nn::init::zeros_(out_->bias);
  if (dtype_ != DType::f32) to(dtype_);
}

Tensor DmviNetwork::forward(const Tensor& w, const std::vector<double>& t) {
  const int64_t blocks = static_cast<int64_t>(t.size()), rows = w.dim() == 2 ? w.size(0) : -1;
  if (blocks == 0 || rows < 0 || rows % blocks != 0) {
    throw ShapeError("DmviNetwork: w must be [rows, d] with rows a multiple of the " +
                     std::to_string(blocks) + " times, got " + describe(w));
  }
  std::vector<double> scaled(t.size());
  for (size_t i = 0; i < t.size(); ++i) scaled[i] = 1000.0 * t[i];
  Tensor tt = from_vector(scaled, {blocks}, TensorOptions(w.dtype()));
  return call([&] {
    // One embedding row per time, broadcast over its block of rows.
    Tensor e = reshape((*embed_)(tt), {blocks, 1, -1});
    Tensor x = reshape((*in_)(w), {blocks, rows / blocks, -1});
    Tensor h = reshape(add(x, e), {rows, -1});
    h = (*drop_)((*norm_)((*hidden_)(h)));
    return (*out_)(h);
  });
}

// --- guide ---------------------------------------------------------------------------------------
DmviGuide::DmviGuide(int64_t dim, DmviOptions o, Generator& gen)
    : Guide("DmviGuide", dim, o.dtype), options_(o) {
  if (o.num_steps < 2 || !(o.t_min > 0 && o.t_min < 1) || o.order < 1 || o.order > 2) {
    throw ValueError("DmviGuide: need num_steps >= 2, 0 < t_min < 1 and order 1 or 2");
  }
  schedule_ = std::make_shared<diffusion::VPLinear>(o.beta0, o.beta1);
  net_ = register_module("net", std::make_shared<DmviNetwork>(dim, o, gen));
  const int64_t T = o.num_steps;
  // Grid: t_0 = 0; t_T = 1, ..., t_1 = t_min uniform in λ (the solvers' logSNR spacing).
  const std::vector<double> ts = solvers::time_steps(*schedule_, solvers::StepSpacing::logsnr, 1.0,
                                                     o.t_min, static_cast<int>(T - 1));
  t_.assign(T + 1, 0.0);
  for (int64_t k = 1; k <= T; ++k) t_[k] = ts[T - k];
  alpha_.assign(T + 1, 1.0);
  sigma_.assign(T + 1, 0.0);
  lambda_.assign(T + 1, 0.0);  // λ_0 = +∞ is never used
  for (int64_t k = 1; k <= T; ++k) {
    alpha_[k] = schedule_->alpha(t_[k]);
    sigma_[k] = schedule_->sigma(t_[k]);
    lambda_[k] = schedule_->lambda(t_[k]);
  }
  a_.assign(T + 1, 0.0);
  s2_.assign(T + 1, 0.0);
  for (int64_t k = 1; k <= T; ++k) {
    a_[k] = alpha_[k] / alpha_[k - 1];
    // σ_k² − a² σ_{k−1}² = 1 − a² (careful form for small steps); σ²_{t_1} for k = 1.
    s2_[k] = k == 1
                 ? sigma_[1] * sigma_[1]
                 : -std::expm1(2 * (schedule_->log_alpha(t_[k]) - schedule_->log_alpha(t_[k - 1])));
  }
  // Identity until initialize() fits it (FullRankNormal's L = init_scale · I).
  if (o.affine)
    affine_ = register_module("affine", std::make_shared<FullRankNormal>(dim, 1.0, o.dtype));
  if (o.advi_steps < 0 || !(o.advi_lr > 0)) {
    throw ValueError("DmviGuide: need advi_steps >= 0 and advi_lr > 0 (got " +
                     std::to_string(o.advi_steps) + ", " + std::to_string(o.advi_lr) + ")");
  }
  // Per-step constants of the transitions, index k − 1 (see chain()); step 1 (the denoising
  // step) has h = 0, which zeroes its solver terms, and its whole variance σ²_{t_1} in var1.
  std::vector<double> neg_h(T, 0.0), ratio(T, 0.0), alpha_prev(T, 0.0), sig2_prev(T, 0.0),
      sig2(T, 0.0), var1(T, 0.0);
  for (int64_t k = 2; k <= T; ++k) {
    neg_h[k - 1] = -(lambda_[k - 1] - lambda_[k]);
    ratio[k - 1] = sigma_[k - 1] / sigma_[k];
    alpha_prev[k - 1] = alpha_[k - 1];
    sig2_prev[k - 1] = sigma_[k - 1] * sigma_[k - 1];
    sig2[k - 1] = sigma_[k] * sigma_[k];
  }
  var1[0] = sigma_[1] * sigma_[1];
  auto constant = [&](const std::vector<double>& v) {
    return from_vector(v, {T}, TensorOptions(o.dtype));
  };
  neg_h_ = constant(neg_h), ratio_ = constant(ratio), alpha_prev_ = constant(alpha_prev);
  sig2_prev_ = constant(sig2_prev), sig2_ = constant(sig2), var1_ = constant(var1);
  rho_ = zeros({T}, TensorOptions(o.dtype));
  nu_ = zeros({T}, TensorOptions(o.dtype));
  if (o.learn_variances) {
    rho_ = register_parameter("rho", rho_);
    nu_ = register_parameter("nu", nu_);
  }
}

Tensor DmviGuide::noise_prediction(const Tensor& w, double t) { return predict(w, {t}).first; }

std::pair<Tensor, Tensor> DmviGuide::predict(const Tensor& w, const std::vector<double>& times) {
  // σ_t w is the exact noise prediction for w_0 ~ N(0, I); the network learns a correction
  // (zero at initialisation), so training starts from q(w_0) = N(0, I).
  const int64_t d = dim(), m = static_cast<int64_t>(times.size());
  Tensor out = net_->forward(w, times);
  const bool heads = options_.learn_scales || options_.learn_gains;
  Tensor correction = heads ? narrow(out, 1, 0, d) : out;
  Tensor log_scale = options_.learn_scales ? narrow(out, 1, d, d) : Tensor();
  // learn_gains: x̂ = α e^a w + σ F, so ε̂ = (w − α x̂)/σ gains −(α²/σ) expm1(a) ⊙ w.
  Tensor gain_term = options_.learn_gains
                         ? mul(expm1(narrow(out, 1, options_.learn_scales ? 2 * d : d, d)), w)
                         : Tensor();
  if (m == 1) {  // one time (the chain's per-step call): scalar ops, no broadcast tensors
    const double t = times[0], a = schedule_->alpha(t), s = schedule_->sigma(t);
    if (options_.precondition) correction = mul(correction, -a);
    Tensor eps = add(mul(w, s), correction);
    if (gain_term.defined()) eps = sub(eps, mul(gain_term, a * a / s));
    return {eps, log_scale};
  }
  // One (σ_t, −α_t) per block of rows, broadcast over [m, n, d].
  std::vector<double> sigma(m), neg_alpha(m), neg_gain(m);
  for (int64_t i = 0; i < m; ++i) {
    sigma[i] = schedule_->sigma(times[i]);
    neg_alpha[i] = -schedule_->alpha(times[i]);
    neg_gain[i] = -neg_alpha[i] * neg_alpha[i] / sigma[i];
  }
  const TensorOptions opt(dtype());
  const Shape blocks{m, w.size(0) / m, d};
  correction = reshape(correction, blocks);
  if (options_.precondition) correction = mul(correction, from_vector(neg_alpha, {m, 1, 1}, opt));
  Tensor eps = add(mul(reshape(w, blocks), from_vector(sigma, {m, 1, 1}, opt)), correction);
  if (gain_term.defined()) {
    eps = add(eps, mul(reshape(gain_term, blocks), from_vector(neg_gain, {m, 1, 1}, opt)));
  }
  return {reshape(eps, {-1, d}), log_scale};
}

Tensor DmviGuide::scale_tril() const {
  if (!options_.affine) throw ValueError("DmviGuide::scale_tril: the guide has no affine map");
  return affine_->scale_tril();
}

Tensor DmviGuide::to_theta(const Tensor& w0) const {
  if (!options_.affine) return w0;
  return add(affine_->loc, matmul(w0, transpose(affine_->scale_tril(), 0, 1)));
}

void DmviGuide::initialize(const LogDensityFn& log_p, int64_t n, Generator& gen) {
  if (!options_.affine || options_.advi_steps == 0) return;
  // The affine map IS a FullRankNormal, fitted here by the library's full-rank ADVI from its
  // usual start (L = 0.1 I); the chain at ε̂ = σ_t w (zero network output) is exactly N(0, I),
  // so q starts as that Gaussian.
  {
    NoGradGuard no_grad;
    raw::fill_(affine_->loc, 0.0);
    raw::fill_(affine_->log_diag, std::log(0.1));
    raw::fill_(affine_->off_diag, 0.0);
  }
  nn::Adam adam(affine_->parameters(), nn::AdamOptions(options_.advi_lr));
  const nn::CosineLR schedule(options_.advi_steps, 0, 0.01);
  for (int64_t step = 0; step < options_.advi_steps; ++step) {
    Tensor loss = affine_->loss(log_p, n, gen);
    adam.zero_grad();
    backward(loss);
    schedule.apply(adam, step);
    adam.step();
  }
}

std::pair<Tensor, Tensor> DmviGuide::chain(Tensor w, Generator* gen, bool with_density) {
  const int64_t n = w.shape()[0], d = dim(), T = options_.num_steps;
  const TensorOptions opt(dtype());
  Tensor log_ratio;  // log r − log q, accumulated per draw
  double const_term = 0;
  if (with_density) {
    log_ratio = mul(sum(square(w), {-1}), 0.5);  // −log N(w_T; 0, I)
    const_term = 0.5 * d * kLog2Pi;
  }
  // Every step's coefficients at once ([T], index k − 1), one op each rather than a dozen tiny
  // ops per step. Step k ≥ 2 is a stochastic DPM-Solver++ step t_k → t_{k−1} with
  // η_k = exp(ρ_k): mean c_w w + c_x x̂; its variance is the SDE solver's own noise
  // σ²_{k−1}(1 − e^{−2ηh}) plus the spread of x̂ the step carries forward, c_x² Var(x_0 | w_k)
  // with Var = σ_k² as for a standard normal w_0 (Analytic-DPM's optimal reverse variance, Bao
  // et al. 2022), times exp(ν_k). At η = 1, ν = 0 and ε̂ = σ_t w this is the exact reverse
  // conditional of the forward process for w_0 ~ N(0, I). Step 1 is the denoising step to
  // t_0 = 0 (the solvers' denoise_to_zero) plus noise of variance exp(ν_1) σ²_{t_1}.
  Tensor eta = exp(rho_);
  Tensor c_w_all = mul(exp(mul(eta, neg_h_)), ratio_);
  Tensor c_x_all = mul(neg(expm1(mul(add(eta, 1.0), neg_h_))), alpha_prev_);
  Tensor var_all =
      add(add(mul(neg(expm1(mul(eta, mul(neg_h_, 2.0)))), sig2_prev_), mul(square(c_x_all), sig2_)),
          var1_);
  Tensor sd_all = sqrt(mul(var_all, exp(nu_)));
  if (gen != nullptr && with_density) {
    // −log q(w_{k−1} | w_k, w_{k+1}) = ½|z_k|² + d log sd_k + d/2 log 2π: the log sd part of
    // every step at once.
    log_ratio = add(log_ratio, mul(sum(log(sd_all)), static_cast<double>(d)));
  }
  const bool stl = options_.stick_the_landing && gen != nullptr && with_density && grad_enabled();
  const uint64_t dropout_offset = net_->dropout_offset();
  std::vector<Tensor> visited, noise;  // STL: w_k and z_k, k = T..1
  Tensor x_hat_prev;                   // x̂ at t_{k+1}, for the second-order correction
  for (int64_t k = T; k >= 1; --k) {
    auto [eps, log_scale] = predict(w, {t_[k]});
    Tensor x_hat = div(sub(w, mul(eps, sigma_[k])), alpha_[k]);
    Tensor sd = select(sd_all, 0, k - 1);  // scalar tensors
    Tensor mu;
    if (k == 1) {
      mu = x_hat;
    } else {
      Tensor c_x = select(c_x_all, 0, k - 1);
      mu = add(mul(w, select(c_w_all, 0, k - 1)), mul(x_hat, c_x));
      if (options_.order >= 2 && k < T) {
        const double r = (lambda_[k] - lambda_[k + 1]) / (lambda_[k - 1] - lambda_[k]);
        mu = add(mu, mul(sub(x_hat, x_hat_prev), mul(c_x, 0.5 / r)));
      }
    }
    Tensor w_prev = mu;
    if (gen != nullptr) {
      Tensor z = randn({n, d}, *gen, opt);
      // learn_scales: the noise is sd_k exp(g) z, and −log q gains Σ_j g_j.
      w_prev = add(mu, mul(z, log_scale.defined() ? mul(exp(log_scale), sd) : sd));
      if (with_density) {
        log_ratio = add(log_ratio, mul(sum(square(z), {-1}), 0.5));
        if (log_scale.defined()) log_ratio = add(log_ratio, sum(log_scale, {-1}));
        const_term += 0.5 * d * kLog2Pi;
      }
      if (stl) {
        visited.push_back(detach(w));
        noise.push_back(z);
      }
    }
    if (with_density) {
      // log r(w_k | w_{k−1}) = −½ |w_k − a_k w_{k−1}|² / s²_k − d/2 log(2π s²_k).
      Tensor resid = sub(w, mul(w_prev, a_[k]));
      log_ratio = sub(log_ratio, mul(sum(square(resid), {-1}), 0.5 / s2_[k]));
      const_term -= 0.5 * d * (kLog2Pi + std::log(s2_[k]));
    }
    x_hat_prev = x_hat;
    w = w_prev;
  }
  if (with_density) {
    log_ratio = add(log_ratio, const_term);
    // θ = m + L w_0: log q(θ, ...) = log q(w_0, ...) − Σ ω (L's log-diagonal).
    if (options_.affine) log_ratio = add(log_ratio, sum(affine_->log_diag));
    // STL's gradient is the reparameterised one plus the score (whose mean is zero), so the
    // value of the bound is unchanged.
    if (stl) {
      Tensor score = score_of_log_q(visited, noise, dropout_offset, c_w_all, c_x_all, sd_all);
      log_ratio = add(log_ratio, sub(score, detach(score)));
    }
  }
  return {to_theta(w), log_ratio};
}

Tensor DmviGuide::score_of_log_q(const std::vector<Tensor>& visited,
                                 const std::vector<Tensor>& noise, uint64_t dropout_offset,
                                 const Tensor& c_w_all, const Tensor& c_x_all,
                                 const Tensor& sd_all) {
  // ∂_φ log q(w_{0:T}; φ) at fixed w, summed over the steps, is Σ_k ⟨z_k/sd_k, ∂_φ μ_k⟩ +
  // (|z_k|² − d)/sd_k ∂_φ sd_k. It is the gradient of Σ_k ⟨sg(z_k/sd_k), μ_k⟩ +
  // sg((|z_k|² − d)/sd_k) sd_k with μ_k re-evaluated at the detached states: one network pass
  // over all T steps' states at once (block j holds step k = T − j). Its dropout masks are the
  // chain's, replayed from the same generator offset: the chain drew them in this order, one
  // [n, hidden] block per step, and element i of a draw uses counter offset + i.
  const int64_t T = options_.num_steps, n = visited.front().shape()[0], d = dim();
  const TensorOptions opt(dtype());
  std::vector<double> times(T), alpha_b(T), sigma_b(T), first_b(T, 0.0), half_inv_r(T, 0.0);
  std::vector<int64_t> step_b(T);
  for (int64_t j = 0; j < T; ++j) {
    const int64_t k = T - j;
    times[j] = t_[k];
    alpha_b[j] = alpha_[k];
    sigma_b[j] = sigma_[k];
    step_b[j] = k - 1;
    if (k == 1) first_b[j] = 1;
    if (options_.order >= 2 && k >= 2 && k < T) {
      half_inv_r[j] = 0.5 * (lambda_[k - 1] - lambda_[k]) / (lambda_[k] - lambda_[k + 1]);
    }
  }
  auto per_block = [&](const std::vector<double>& v) { return from_vector(v, {T, 1, 1}, opt); };
  Tensor alpha = per_block(alpha_b), sigma = per_block(sigma_b);
  Tensor w = cat(visited, 0);  // [T n, d]
  const uint64_t after = net_->dropout_offset();
  net_->set_dropout_offset(dropout_offset);
  auto [eps_rows, log_scale_rows] = predict(w, times);
  net_->set_dropout_offset(after);
  w = reshape(w, {T, n, d});
  Tensor eps = reshape(eps_rows, {T, n, d});
  Tensor x_hat = div(sub(w, mul(eps, sigma)), alpha);
  // Per-block step coefficients [T, 1, 1]; the denoising step (k = 1) has mean x̂.
  Tensor index = from_vector(step_b, {T}, TensorOptions(DType::i64));
  auto coefficient = [&](const Tensor& all) {
    return reshape(index_select(all, 0, index), {T, 1, 1});
  };
  Tensor c_w = coefficient(c_w_all);
  Tensor c_x = add(coefficient(c_x_all), per_block(first_b));
  Tensor mu = add(mul(w, c_w), mul(x_hat, c_x));
  if (options_.order >= 2) {
    // + c_x (x̂_k − x̂_{k+1}) / (2 r) for 2 ≤ k < T; x̂_{k+1} is the previous block.
    Tensor x_hat_next = cat({zeros({1, n, d}, opt), narrow(x_hat, 0, 0, T - 1)}, 0);
    mu = add(mu, mul(sub(x_hat, x_hat_next), mul(c_x, per_block(half_inv_r))));
  }
  Tensor z = reshape(cat(noise, 0), {T, n, d});
  Tensor sd = coefficient(sd_all);
  // With learn_scales the noise scale is sd_k exp(g_j): ∂ log q / ∂μ = z / scale, and the
  // log-scale g_j gets its own (z_j² − 1) term.
  Tensor log_scale;
  if (log_scale_rows.defined()) log_scale = reshape(log_scale_rows, {T, n, d});
  Tensor scale = log_scale.defined() ? mul(exp(detach(log_scale)), sd) : sd;
  Tensor mean_part = sum(mul(mu, detach(div(z, scale))), {0, 2});  // [n]
  Tensor sd2 = reshape(sd, {T, 1});
  Tensor sd_part = sum(
      mul(detach(div(sub(sum(square(z), {-1}), static_cast<double>(d)), sd2)), sd2), {0});  // [n]
  Tensor score = add(mean_part, sd_part);
  if (log_scale.defined()) {
    score = add(score, sum(mul(detach(sub(square(z), 1.0)), log_scale), {0, 2}));
  }
  return score;
}

Tensor DmviGuide::loss(const LogDensityFn& log_p, int64_t n, Generator& gen) {
  auto [theta, log_ratio] = chain(randn({n, dim()}, gen, TensorOptions(dtype())), &gen, true);
  return neg(mean(add(log_p(theta), log_ratio)));
}

BoundEstimate DmviGuide::bound(const LogDensityFn& log_p, int64_t n, Generator& gen,
                               int64_t chunk) {
  NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  double s = 0, s2 = 0;
  for (int64_t done = 0; done < n; done += chunk) {
    const int64_t m = std::min(chunk, n - done);
    auto [theta, log_ratio] = chain(randn({m, dim()}, gen, TensorOptions(dtype())), &gen, true);
    for (double v : diffvi::to(add(log_p(theta), log_ratio), DType::f64).to_vector<double>()) {
      s += v;
      s2 += v * v;
    }
  }
  train(was_training);
  BoundEstimate b;
  b.value = s / n;
  b.std_error = std::sqrt(std::max(0.0, s2 / n - b.value * b.value) / n);
  return b;
}

Tensor DmviGuide::solver_sample(int64_t n, Generator& gen) {
  auto model = [this](const Tensor& x, const Tensor& t) {
    return noise_prediction(x, t.to_vector<double>()[0]);
  };
  auto o = solvers::DpmSolverOptions()
               .set_steps(options_.solver_steps)
               .set_order(options_.solver_order)
               .set_t_end(options_.t_min)
               .set_denoise_to_zero(true);
  solvers::DpmSolver solver(model, schedule_, solvers::ModelType::noise, o);
  return to_theta(solver.sample(randn({n, dim()}, gen, TensorOptions(dtype()))));
}

Tensor DmviGuide::rsample(int64_t n, Generator& gen) {
  const bool was_training = is_training();
  eval();
  Tensor z = options_.sampler == DmviOptions::Sampler::dpm_solver
                 ? solver_sample(n, gen)
                 : chain(randn({n, dim()}, gen, TensorOptions(dtype())), &gen, false).first;
  train(was_training);
  return z;
}

std::pair<Tensor, Tensor> DmviGuide::rsample_and_log_prob(int64_t, Generator&) {
  throw ValueError("DmviGuide: q(θ) is a marginal of the reverse chain; it has no log density");
}

Tensor DmviGuide::log_prob(const Tensor&) {
  throw ValueError("DmviGuide: q(θ) is a marginal of the reverse chain; it has no log density");
}

}  // namespace diffvi::vi
