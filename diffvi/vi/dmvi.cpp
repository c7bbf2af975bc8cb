// DMVI: the noise network, the reverse chain and its auxiliary-variable bound.
#include "diffvi/vi/dmvi.h"

#include <cmath>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"
#include "diffvi/solvers/dpm_solver.h"
#include "diffvi/solvers/time_steps.h"

namespace diffvi::vi {

namespace {
constexpr double kLog2Pi = 1.8378770664093454836;
}

// --- network -------------------------------------------------------------------------------------
DmviNetwork::DmviNetwork(int64_t dim, const DmviOptions& o, Generator& gen)
    : nn::Module("DmviNetwork"), dropout_gen_(gen.seed() ^ 0x9E3779B97F4A7C15ull),
      dtype_(o.dtype) {
  const auto lin = nn::LinearOptions().set_dtype(o.dtype);
  in_ = register_module("in", std::make_shared<nn::Linear>(dim, o.hidden, lin, gen));
  embed_ = register_module("embed", std::make_shared<nn::SinusoidalTimeEmbedding>(o.hidden));
  hidden_ = register_module(
      "hidden", std::make_shared<nn::Linear>(
                    o.hidden, o.hidden, nn::LinearOptions(lin).set_activation(Activation::gelu_erf),
                    gen));
  norm_ = register_module("norm", std::make_shared<nn::LayerNorm>(Shape{o.hidden}));
  drop_ = register_module("drop", std::make_shared<nn::Dropout>(o.dropout, dropout_gen_));
  out_ = register_module("out", std::make_shared<nn::Linear>(o.hidden, dim, lin, gen));
  // The correction starts at zero (see DmviGuide::chain).
  nn::init::zeros_(out_->weight);
  nn::init::zeros_(out_->bias);
  if (dtype_ != DType::f32) to(dtype_);
}

Tensor DmviNetwork::forward(const Tensor& w, double t) {
  return call([&] {
    const int64_t n = w.shape()[0];
    Tensor tt = full({n}, 1000.0 * t, TensorOptions(w.dtype()));
    Tensor h = add((*in_)(w), (*embed_)(tt));
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
  const std::vector<double> ts =
      solvers::time_steps(*schedule_, solvers::StepSpacing::logsnr, 1.0, o.t_min,
                          static_cast<int>(T - 1));
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
    s2_[k] = k == 1 ? sigma_[1] * sigma_[1]
                    : -std::expm1(2 * (schedule_->log_alpha(t_[k]) -
                                       schedule_->log_alpha(t_[k - 1])));
  }
  if (o.affine) {
    shift_ = register_parameter("shift", zeros({dim}, TensorOptions(o.dtype)));
    log_scale_ = register_parameter("log_scale", zeros({dim}, TensorOptions(o.dtype)));
  }
  rho_ = zeros({T}, TensorOptions(o.dtype));
  nu_ = zeros({T}, TensorOptions(o.dtype));
  if (o.learn_variances) {
    rho_ = register_parameter("rho", rho_);
    nu_ = register_parameter("nu", nu_);
  }
}

Tensor DmviGuide::noise_prediction(const Tensor& w, double t) {
  // σ_t w is the exact noise prediction for w_0 ~ N(0, I); the network learns a correction
  // (zero at initialisation), so training starts from q(w_0) = N(0, I).
  Tensor base = mul(w, schedule_->sigma(t));
  if (!network_on_) return base;
  Tensor correction = net_->forward(w, t);
  if (options_.precondition) correction = mul(correction, -schedule_->alpha(t));
  return add(base, correction);
}

Tensor DmviGuide::to_theta(const Tensor& w0) const {
  if (!options_.affine) return w0;
  return add(mul(shift_, options_.affine_gain),
             mul(exp(mul(log_scale_, options_.affine_gain)), w0));
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
  Tensor x_hat_prev;  // x̂ at t_{k+1}, for the second-order correction
  for (int64_t k = T; k >= 1; --k) {
    Tensor eps = noise_prediction(w, t_[k]);
    Tensor x_hat = div(sub(w, mul(eps, sigma_[k])), alpha_[k]);
    Tensor rho = select(rho_, 0, k - 1), nu = select(nu_, 0, k - 1);  // scalar tensors
    Tensor mu, sd;
    if (k == 1) {
      // Denoising step to t_0 = 0 (the solvers' denoise_to_zero) plus noise of variance
      // exp(ν_1) σ²_{t_1} (exact for a standard normal w_0 at ν_1 = 0).
      mu = x_hat;
      sd = mul(exp(mul(nu, 0.5)), sigma_[1]);
    } else {
      // Stochastic DPM-Solver++ step t_k → t_{k−1} with η_k = exp(ρ_k).
      const double h = lambda_[k - 1] - lambda_[k];
      Tensor eta = exp(rho);
      Tensor c_w = mul(exp(mul(eta, -h)), sigma_[k - 1] / sigma_[k]);
      Tensor c_x = mul(neg(expm1(mul(add(eta, 1.0), -h))), alpha_[k - 1]);
      mu = add(mul(w, c_w), mul(x_hat, c_x));
      if (options_.order >= 2 && k < T) {
        const double r = (lambda_[k] - lambda_[k + 1]) / h;
        mu = add(mu, mul(sub(x_hat, x_hat_prev), mul(c_x, 0.5 / r)));
      }
      // The SDE solver's own noise σ²_{k−1}(1 − e^{−2ηh}) plus the spread of x̂ the step carries
      // forward, c_x² Var(x_0 | w_k) with Var = σ_k² as for a standard normal w_0 (Analytic-DPM's
      // optimal reverse variance, Bao et al. 2022), times exp(ν_k). At η = 1, ν = 0 and
      // ε̂ = σ_t w this is the exact reverse conditional of the forward process for w_0 ~ N(0, I).
      Tensor var = add(mul(neg(expm1(mul(eta, -2 * h))), sigma_[k - 1] * sigma_[k - 1]),
                       mul(square(c_x), sigma_[k] * sigma_[k]));
      sd = sqrt(mul(var, exp(nu)));
    }
    Tensor w_prev = mu;
    if (gen != nullptr) {
      Tensor z = randn({n, d}, *gen, opt);
      w_prev = add(mu, mul(z, sd));
      if (with_density) {
        // −log q(w_{k−1} | w_k, w_{k+1}) = ½|z|² + d log sd + d/2 log 2π.
        log_ratio = add(log_ratio, mul(sum(square(z), {-1}), 0.5));
        log_ratio = add(log_ratio, mul(log(sd), static_cast<double>(d)));
        const_term += 0.5 * d * kLog2Pi;
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
    // θ = shift + s ⊙ w_0: log q(θ, ...) = log q(w_0, ...) − Σ log s.
    if (options_.affine) log_ratio = add(log_ratio, sum(mul(log_scale_, options_.affine_gain)));
  }
  return {to_theta(w), log_ratio};
}

Tensor DmviGuide::loss(const LogDensityFn& log_p, int64_t n, Generator& gen) {
  // Warm-up: the first warmup_steps training steps run the chain without the network, where it
  // is exactly N(0, I) in w, so only the affine map (and η, ν) learn — ADVI inside DMVI.
  network_on_ = !is_training() || loss_calls_ >= options_.warmup_steps;
  if (is_training()) ++loss_calls_;
  auto [theta, log_ratio] = chain(randn({n, dim()}, gen, TensorOptions(dtype())), &gen, true);
  network_on_ = true;
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
