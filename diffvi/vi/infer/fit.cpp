// fit(): the method registry, the stochastic-optimisation loop for guides, and NUTS.
#include "diffvi/vi/infer/fit.h"

#include <chrono>
#include <cmath>
#include <mutex>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/vi/guides/advi.h"
#include "diffvi/vi/guides/flows.h"
#include "diffvi/vi/methods/dmvi/dmvi.h"

namespace diffvi::vi {

namespace {

std::map<std::string, GuideFactory>& registry() {
  static std::map<std::string, GuideFactory> r = [] {
    std::map<std::string, GuideFactory> m;
    auto dtype_or = [](const FitOptions& o, DType d) { return o.dtype.value_or(d); };
    m["advi"] = [dtype_or](int64_t d, const FitOptions& o, Generator&) {
      return std::make_shared<MeanFieldNormal>(d, o.init_scale, dtype_or(o, DType::f64));
    };
    m["advi-fullrank"] = [dtype_or](int64_t d, const FitOptions& o, Generator&) {
      return std::make_shared<FullRankNormal>(d, o.init_scale, dtype_or(o, DType::f64));
    };
    auto flow_opts = [dtype_or](const FitOptions& o) {
      FlowOptions f = o.flow;
      f.dtype = dtype_or(o, o.flow.dtype);
      return f;
    };
    m["maf"] = [flow_opts](int64_t d, const FitOptions& o, Generator& g) {
      return std::make_shared<AutoregressiveFlow>(d, false, flow_opts(o), g);
    };
    m["iaf"] = [flow_opts](int64_t d, const FitOptions& o, Generator& g) {
      return std::make_shared<AutoregressiveFlow>(d, true, flow_opts(o), g);
    };
    m["realnvp"] = [flow_opts](int64_t d, const FitOptions& o, Generator& g) {
      return std::make_shared<RealNvp>(d, flow_opts(o), g);
    };
    m["dmvi"] = [dtype_or](int64_t d, const FitOptions& o, Generator& g) {
      DmviOptions dm = o.dmvi;
      dm.dtype = dtype_or(o, o.dmvi.dtype);
      return std::make_shared<DmviGuide>(d, dm, g);
    };
    return m;
  }();
  return r;
}

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

// Adam (bias-corrected, decoupled weight decay) over the guide's parameters through the fused
// AdamW kernel, with optional global-norm clipping.
class Adam {
 public:
  explicit Adam(std::vector<Tensor> params) : params_(std::move(params)) {
    for (const Tensor& p : params_) {
      m_.push_back(zeros_like(p));
      v_.push_back(zeros_like(p));
    }
  }
  void step(double lr, double weight_decay, double clip) {
    ++t_;
    std::vector<Tensor> ps, gs, ms, vs;
    double sq = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      Tensor g = params_[i].grad();
      if (!g.defined()) continue;
      g = raw::contiguous(g);
      if (clip > 0) {
        for (double x : g.to_vector<double>()) sq += x * x;
      }
      ps.push_back(params_[i]);
      gs.push_back(g);
      ms.push_back(m_[i]);
      vs.push_back(v_[i]);
    }
    if (clip > 0 && std::sqrt(sq) > clip) {
      const double f = clip / std::sqrt(sq);
      for (Tensor& g : gs) g = raw::binary_scalar(BinaryOp::mul, g, f);
    }
    AdamWConfig c;
    c.lr = lr;
    c.weight_decay = weight_decay;
    c.step = t_;
    if (!ps.empty()) raw::adamw_(ps, gs, ms, vs, c);
  }

 private:
  std::vector<Tensor> params_, m_, v_;
  int64_t t_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void register_method(const std::string& name, GuideFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(factory);
}

std::vector<std::string> available_methods() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names{"nuts"};
  for (const auto& [name, f] : registry()) names.push_back(name);
  return names;
}

Posterior fit(const Model& model, const FitOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  Posterior post;
  post.method_ = o.method;
  post.model_ = &model;
  const int64_t d = model.dim();
  if (d == 0) throw ValueError("fit: the model has no latent sites");
  // 0 is the documented "full data"; a negative size was silently taken as 0 too.
  if (o.batch_size < 0) {
    throw ValueError("fit: batch_size must be >= 0 (0 = full data), got " +
                     std::to_string(o.batch_size));
  }

  if (o.method == "nuts") {
    NutsOptions no = o.nuts;
    no.seed = o.seed;
    auto f = [&model](const double* z, int64_t n, double* lp, double* g) {
      model.log_density_and_grad(z, n, lp, g);
    };
    post.nuts_ = std::make_shared<NutsResult>(nuts(f, d, no));
    post.fit_seconds_ = seconds_since(start);
    return post;
  }

  GuideFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(o.method);
    if (it == registry().end()) {
      std::string known = "nuts";
      for (const auto& [name, f] : registry()) known += ", " + name;
      throw ValueError("fit: unknown method '" + o.method + "' (available: " + known + ")");
    }
    factory = it->second;
  }
  if (o.steps <= 0 || o.num_particles <= 0 || !(o.lr > 0)) {
    throw ValueError("fit: need steps > 0, num_particles > 0 and lr > 0");
  }
  Generator gen(o.seed);
  post.guide_ = factory(d, o, gen);
  Guide& guide = *post.guide_;
  Adam adam(guide.parameters());
  EvalOptions eval;
  eval.batch_size = o.batch_size;
  eval.generator = &gen;
  ValidationGuard no_validation(false);
  const LogDensityFn log_p = [&](const Tensor& z) { return model.log_density(z, eval); };
  post.objective_.reserve(o.steps);
  guide.initialize(log_p, o.num_particles, gen);
  for (int64_t step = 0; step < o.steps; ++step) {
    Tensor loss = guide.loss(log_p, o.num_particles, gen);
    const double value = loss.item();
    post.objective_.push_back(value);
    guide.zero_grad();
    backward(loss);
    const double progress = static_cast<double>(step) / o.steps;
    const double lr = o.lr * (o.final_lr_fraction +
                              (1 - o.final_lr_fraction) * 0.5 * (1 + std::cos(M_PI * progress)));
    adam.step(lr, o.weight_decay, o.clip_grad_norm);
  }
  post.fit_seconds_ = seconds_since(start);
  return post;
}

// --- Posterior -----------------------------------------------------------------------------------
Tensor Posterior::sample(int64_t n, Generator& gen) const {
  NoGradGuard no_grad;
  if (guide_) return to(guide_->rsample(n, gen), DType::f64);
  const NutsResult& r = *nuts_;
  const int64_t total = r.num_chains * r.num_samples;
  std::vector<double> u = rand({n}, gen, TensorOptions(DType::f64)).to_vector<double>();
  std::vector<double> out(n * r.dim);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = std::min<int64_t>(total - 1, static_cast<int64_t>(u[i] * total));
    std::copy(r.draws.begin() + k * r.dim, r.draws.begin() + (k + 1) * r.dim,
              out.begin() + i * r.dim);
  }
  return from_vector(out, {n, r.dim}, TensorOptions(DType::f64));
}

std::map<std::string, Tensor> Posterior::sample_sites(int64_t n, Generator& gen) const {
  return model_->constrain(sample(n, gen));
}

bool Posterior::has_log_prob() const { return guide_ && guide_->has_log_prob(); }

Tensor Posterior::log_prob(const Tensor& z) const {
  if (!has_log_prob()) {
    throw ValueError("Posterior(" + method_ + "): log_prob is not available for this method");
  }
  return guide_->log_prob(z);
}

Tensor Posterior::draws() const {
  if (!nuts_) throw ValueError("Posterior(" + method_ + "): draws() is for samplers");
  return from_vector(nuts_->draws, {nuts_->num_chains * nuts_->num_samples, nuts_->dim},
                     TensorOptions(DType::f64));
}

}  // namespace diffvi::vi
