// DMVI: the noise network, the reverse chain and its auxiliary-variable bound.
#include "diffvi/vi/dmvi.h"

#include <cmath>

#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/nn/init.h"
#include "diffvi/solvers/dpm_solver.h"

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
  if (o.num_steps < 1 || !(o.t_min > 0 && o.t_min < 1)) {
    throw ValueError("DmviGuide: need num_steps >= 1 and 0 < t_min < 1");
  }
  schedule_ = std::make_shared<diffusion::VPLinear>(o.beta0, o.beta1);
  net_ = register_module("net", std::make_shared<DmviNetwork>(dim, o, gen));
  const int64_t T = o.num_steps;
  // Grid: t_0 = 0, t_1 = t_min, ..., t_T = 1 uniform in λ.
  t_.assign(T + 1, 0.0);
  const double l_lo = schedule_->lambda(1.0), l_hi = schedule_->lambda(o.t_min);
  for (int64_t k = 1; k <= T; ++k) {
    const double f = T == 1 ? 1.0 : static_cast<double>(k - 1) / (T - 1);
    t_[k] = k == T ? 1.0 : (k == 1 ? o.t_min : schedule_->t_of_lambda(l_hi + f * (l_lo - l_hi)));
  }
  alpha_.assign(T + 1, 1.0);
  sigma_.assign(T + 1, 0.0);
  for (int64_t k = 1; k <= T; ++k) {
    alpha_[k] = schedule_->alpha(t_[k]);
    sigma_[k] = schedule_->sigma(t_[k]);
  }
  a_.assign(T + 1, 0.0);
  s2_.assign(T + 1, 0.0);
  c_x_.assign(T + 1, 0.0);
  c_w_.assign(T + 1, 0.0);
  v_.assign(T + 1, 0.0);
  for (int64_t k = 1; k <= T; ++k) {
    const double sk2 = sigma_[k] * sigma_[k], sp2 = sigma_[k - 1] * sigma_[k - 1];
    a_[k] = alpha_[k] / alpha_[k - 1];
    // σ_k² − a² σ_{k−1}² = 1 − α_k² − a² (1 − α_{k−1}²) = 1 − a² (careful form for small steps).
    s2_[k] = k == 1 ? sk2 : -std::expm1(2 * (std::log(alpha_[k]) - std::log(alpha_[k - 1])));
    c_x_[k] = alpha_[k - 1] * s2_[k] / sk2;
    c_w_[k] = a_[k] * sp2 / sk2;
    v_[k] = k == 1 ? s2_[1] : s2_[k] * sp2 / sk2;
  }
  if (o.affine) {
    shift_ = register_parameter("shift", zeros({dim}, TensorOptions(o.dtype)));
    log_scale_ = register_parameter("log_scale", zeros({dim}, TensorOptions(o.dtype)));
  }
  log_var_scale_ = zeros({T}, TensorOptions(o.dtype));
  if (o.learn_variances) log_var_scale_ = register_parameter("log_var_scale", log_var_scale_);
}

std::pair<Tensor, Tensor> DmviGuide::chain(int64_t n, Generator& gen, bool with_density) {
  const int64_t d = dim(), T = options_.num_steps;
  const TensorOptions opt(dtype());
  Tensor w = randn({n, d}, gen, opt);
  Tensor log_ratio;  // log r − log q, accumulated per draw
  if (with_density) log_ratio = mul(sum(square(w), {-1}), 0.5);  // −log N(w_T) up to constants
  double const_term = 0.5 * d * kLog2Pi;                            // from −log N(w_T)
  for (int64_t k = T; k >= 1; --k) {
    // ε̂ = σ_t w + network: the exact noise prediction for w_0 ~ N(0, I) plus a learned
    // correction (zero at initialisation), so training starts from q(w_0) ≈ N(0, I).
    Tensor eps = add(mul(w, sigma_[k]), net_->forward(w, t_[k]));
    Tensor x0 = div(sub(w, mul(eps, sigma_[k])), alpha_[k]);
    Tensor mu = add(mul(x0, c_x_[k]), mul(w, c_w_[k]));
    Tensor rho = select(log_var_scale_, 0, k - 1);
    Tensor sd = mul(exp(mul(rho, 0.5)), std::sqrt(v_[k]));  // scalar tensor
    Tensor z = randn({n, d}, gen, opt);
    Tensor w_prev = add(mu, mul(z, sd));
    if (with_density) {
      // −log q(w_{k−1}|w_k) = ½|z|² + d log sd + d/2 log 2π.
      log_ratio = add(log_ratio, mul(sum(square(z), {-1}), 0.5));
      log_ratio = add(log_ratio, mul(log(sd), static_cast<double>(d)));
      // log r(w_k | w_{k−1}) = −½ |w_k − a_k w_{k−1}|² / s²_k − d/2 log(2π s²_k).
      Tensor resid = sub(w, mul(w_prev, a_[k]));
      log_ratio = sub(log_ratio, mul(sum(square(resid), {-1}), 0.5 / s2_[k]));
      const_term += 0.5 * d * kLog2Pi - 0.5 * d * (kLog2Pi + std::log(s2_[k]));
    }
    w = w_prev;
  }
  if (with_density) log_ratio = add(log_ratio, const_term);
  if (options_.affine) {
    // θ = shift + exp(log_scale) ⊙ w_0 (parameters scaled by the gain); −log q gains Σ log s.
    Tensor log_s = mul(log_scale_, options_.affine_gain);
    w = add(mul(shift_, options_.affine_gain), mul(exp(log_s), w));
    if (with_density) log_ratio = add(log_ratio, sum(log_s));
  }
  return {w, log_ratio};
}

Tensor DmviGuide::loss(const LogDensityFn& log_p, int64_t n, Generator& gen) {
  auto [theta, log_ratio] = chain(n, gen, true);
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
    auto [theta, log_ratio] = chain(m, gen, true);
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
    return net_->forward(x, t.to_vector<double>()[0]);
  };
  auto o = solvers::DpmSolverOptions()
               .set_steps(options_.solver_steps)
               .set_order(options_.solver_order)
               .set_t_end(options_.t_min)
               .set_denoise_to_zero(true);
  solvers::DpmSolver solver(model, schedule_, solvers::ModelType::noise, o);
  return solver.sample(randn({n, dim()}, gen, TensorOptions(dtype())));
}

Tensor DmviGuide::rsample(int64_t n, Generator& gen) {
  const bool was_training = is_training();
  eval();
  Tensor z = options_.sampler == DmviOptions::Sampler::dpm_solver ? solver_sample(n, gen)
                                                                   : chain(n, gen, false).first;
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
