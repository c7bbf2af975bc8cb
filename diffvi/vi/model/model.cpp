// Model and Trace.
#include "diffvi/vi/model/model.h"

#include <algorithm>
#include <numeric>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/node.h"
#include "diffvi/autograd/ops.h"

namespace diffvi::vi {

// --- Plate ---------------------------------------------------------------------------------------
Plate::Plate(std::string name, int64_t size, Tensor indices)
    : name_(std::move(name)), size_(size), batch_(size), indices_(std::move(indices)) {
  if (indices_.defined()) batch_ = indices_.numel();
}

Tensor Plate::select(const Tensor& x, int64_t dim) const {
  if (!subsampled()) return x;
  if (x.size(dim) != size_) {
    throw ShapeError("plate '" + name_ + "': select expects dim " + std::to_string(dim) +
                     " of size " + std::to_string(size_) + ", got " + describe(x));
  }
  return index_select(x, dim, indices_);
}

// --- Trace ---------------------------------------------------------------------------------------
Trace::Trace(const Model& model, Mode mode, int64_t S, DType dtype)
    : model_(model), mode_(mode), S_(S), dtype_(dtype) {}

Tensor Trace::reduce_particles(const Tensor& t) const {
  if (t.dim() <= 1) return t;
  std::vector<int64_t> dims(t.dim() - 1);
  std::iota(dims.begin(), dims.end(), 1);
  return sum(t, dims);
}

void Trace::add_term(const Tensor& term) {
  log_density_ = log_density_.defined() ? add(log_density_, term) : term;
}

Tensor Trace::sample(const std::string& name, const Distribution& prior, const Shape& shape) {
  Shape site_shape = shape;
  if (site_shape.empty()) site_shape = prior.event_shape().empty() ? Shape{1} : prior.event_shape();
  const int64_t size = numel(site_shape);
  Shape value_shape{S_};
  value_shape.insert(value_shape.end(), site_shape.begin(), site_shape.end());

  const SiteInfo* info = nullptr;
  SiteInfo fresh;
  if (mode_ == Mode::discover) {
    for (const SiteInfo& s : *discovered_) {
      if (s.name == name) throw ValueError("model: duplicate site name '" + name + "'");
    }
    fresh.name = name;
    fresh.shape = site_shape;
    fresh.support = prior.support();
    fresh.bijector = biject_to(fresh.support);
    fresh.offset = discovered_->empty() ? 0 : discovered_->back().offset + discovered_->back().size;
    fresh.size = size;
    discovered_->push_back(fresh);
    info = &discovered_->back();
  } else {
    const auto& sites = model_.sites();
    if (cursor_ >= sites.size() || sites[cursor_].name != name ||
        sites[cursor_].shape != site_shape) {
      throw ValueError("model: site '" + name + "' " + shape_str(site_shape) +
                       " does not match the discovered structure (site " + std::to_string(cursor_) +
                       "); models must visit the same sites in the "
                       "same order on every run");
    }
    info = &sites[cursor_];
  }
  ++cursor_;

  Tensor u;  // unconstrained [S, *shape]
  if (mode_ == Mode::discover) {
    u = zeros(value_shape, TensorOptions(dtype_));
  } else {
    u = narrow(z_, 1, info->offset, info->size);
    if (site_shape.size() != 1) u = reshape(u, value_shape);
  }
  Tensor value = info->bijector->forward(u);
  if (mode_ == Mode::constrain) {
    NoGradGuard no_grad;
    (*values_)[name] = value;
  }
  if (mode_ != Mode::evaluate) return value;
  if (!info->bijector->is_identity()) {
    add_term(reduce_particles(info->bijector->log_abs_det_jacobian(u)));
  }
  add_term(reduce_particles(prior.log_prob(value)));
  return value;
}

void Trace::observe(const std::string& name, const Distribution& likelihood, const Tensor& data) {
  if (mode_ == Mode::discover) {
    if (std::find(observed_.begin(), observed_.end(), name) != observed_.end()) {
      throw ValueError("model: duplicate observed site name '" + name + "'");
    }
    observed_.push_back(name);
  }
  if (mode_ != Mode::evaluate) return;
  Tensor lp = likelihood.log_prob(data);
  const int64_t base = data.dim() - static_cast<int64_t>(likelihood.event_shape().size());
  if (lp.dim() == base + 1) {
    add_term(reduce_particles(lp));
  } else {
    add_term(sum(lp));  // no particle dim: the same for every particle
  }
}

void Trace::observe(const std::string& name, const Distribution& likelihood, const Tensor& data,
                    const Plate& plate) {
  if (!plate.subsampled()) return observe(name, likelihood, data);
  const Tensor before = log_density_;
  log_density_ = Tensor();
  observe(name, likelihood, data);
  Tensor term = log_density_.defined() ? mul(log_density_, plate.scale()) : log_density_;
  log_density_ = before;
  if (term.defined()) add_term(term);
}

void Trace::factor(const std::string& name, const Tensor& log_weight) {
  if (mode_ != Mode::evaluate) return;
  if (log_weight.dim() > 1 || (log_weight.dim() == 1 && log_weight.size(0) != S_)) {
    throw ShapeError("model: factor '" + name + "' must be [S] or a scalar, got " +
                     describe(log_weight));
  }
  add_term(log_weight);
}

Tensor Trace::deterministic(const std::string& name, const Tensor& value) {
  if (mode_ == Mode::constrain) {
    NoGradGuard no_grad;
    (*values_)[name] = value;
  }
  return value;
}

Plate Trace::plate(const std::string& name, int64_t size) {
  const int64_t b = options_ ? options_->batch_size : 0;
  if (mode_ != Mode::evaluate || b <= 0 || b >= size) return Plate(name, size, Tensor());
  if (!options_->generator) {
    throw ValueError("model: plate '" + name + "' subsampling needs EvalOptions::generator");
  }
  // Partial Fisher-Yates with Philox uniforms: b distinct indices.
  Generator& gen = *options_->generator;
  const uint64_t base = gen.advance(static_cast<uint64_t>(b));
  std::vector<int64_t> perm(size);
  std::iota(perm.begin(), perm.end(), 0);
  for (int64_t i = 0; i < b; ++i) {
    const double u = philox_uniform(gen.seed(), base, static_cast<uint64_t>(i));
    const int64_t j = i + std::min<int64_t>(size - i - 1, static_cast<int64_t>(u * (size - i)));
    std::swap(perm[i], perm[j]);
  }
  perm.resize(b);
  return Plate(name, size, from_vector(perm, {b}));
}

Tensor Trace::data(const Tensor& x) { return model_.cached_data(x, dtype_); }

// --- Model ---------------------------------------------------------------------------------------
Model::Model(Fn fn) : fn_(std::move(fn)) {
  if (!fn_) throw ValueError("Model: empty model function");
}

void Model::body(Trace& t) const {
  if (!fn_) throw ValueError("Model: no body (pass a function or override body())");
  fn_(t);
}

const std::vector<SiteInfo>& Model::sites() const {
  if (!discovered_) {
    std::vector<SiteInfo> found;
    Trace t(*this, Trace::Mode::discover, 1, DType::f64);
    t.discovered_ = &found;
    {
      NoGradGuard no_grad;
      body(t);
    }
    sites_ = std::move(found);
    discovered_ = true;
  }
  return sites_;
}

const SiteInfo& Model::site(const std::string& name) const {
  std::string known;
  for (const SiteInfo& s : sites()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  throw ValueError("model: no latent site '" + name + "' (sites: " + known + ")");
}

int64_t Model::dim() const {
  const auto& s = sites();
  return s.empty() ? 0 : s.back().offset + s.back().size;
}

std::vector<std::string> Model::coordinate_names() const {
  std::vector<std::string> names;
  for (const SiteInfo& s : sites()) {
    if (s.size == 1) {
      names.push_back(s.name);
    } else {
      for (int64_t i = 0; i < s.size; ++i) names.push_back(s.name + "[" + std::to_string(i) + "]");
    }
  }
  return names;
}

Tensor Model::log_density(const Tensor& z, const EvalOptions& options) const {
  const int64_t d = dim();
  if (z.dim() != 2 || z.size(1) != d) {
    throw ShapeError("model.log_density: expected z [S, " + std::to_string(d) + "], got " +
                     describe(z));
  }
  Trace t(*this, Trace::Mode::evaluate, z.size(0), z.dtype());
  t.z_ = z;
  t.options_ = &options;
  body(t);
  if (!t.log_density_.defined()) return zeros({z.size(0)}, TensorOptions(z.dtype()));
  if (t.log_density_.dim() == 0) return broadcast_to(t.log_density_, {z.size(0)});
  return t.log_density_;
}

std::map<std::string, Tensor> Model::constrain(const Tensor& z) const {
  const int64_t d = dim();
  if (z.dim() != 2 || z.size(1) != d) {
    throw ShapeError("model.constrain: expected z [S, " + std::to_string(d) + "], got " +
                     describe(z));
  }
  NoGradGuard no_grad;
  std::map<std::string, Tensor> values;
  Trace t(*this, Trace::Mode::constrain, z.size(0), z.dtype());
  t.z_ = z;
  t.values_ = &values;
  body(t);
  return values;
}

Tensor Model::unconstrain(const std::map<std::string, Tensor>& values) const {
  NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (const SiteInfo& s : sites()) {
    auto it = values.find(s.name);
    if (it == values.end()) throw ValueError("model.unconstrain: missing site '" + s.name + "'");
    Tensor u = s.bijector->inverse(it->second);
    parts.push_back(reshape(u, {u.size(0), s.size}));
  }
  return cat(parts, 1);
}

void Model::log_density_and_grad(const double* z, int64_t n, double* logp, double* grad) const {
  const int64_t d = dim();
  Tensor zt = from_vector(std::vector<double>(z, z + n * d), {n, d}, TensorOptions(DType::f64));
  zt.set_requires_grad(true);
  ValidationGuard no_validation(false);
  Tensor lp = log_density(zt);
  GradOptions grad_options;
  grad_options.allow_unused = true;
  std::vector<Tensor> g = diffvi::grad({sum(lp)}, {zt}, grad_options);
  const std::vector<double> lpv = lp.to_vector<double>();
  std::copy(lpv.begin(), lpv.end(), logp);
  if (g[0].defined()) {
    const std::vector<double> gv = g[0].to_vector<double>();
    std::copy(gv.begin(), gv.end(), grad);
  } else {
    std::fill(grad, grad + n * d, 0.0);
  }
}

Tensor Model::cached_data(const Tensor& x, DType dtype) const {
  if (x.dtype() == dtype) return x;
  for (const auto& [src, conv] : data_cache_) {
    if (src.is_same(x) && conv.dtype() == dtype) return conv;
  }
  if (data_cache_.size() >= 64) data_cache_.clear();  // temporaries must not pile up
  Tensor conv;
  {
    NoGradGuard no_grad;
    conv = to(x, dtype);
  }
  data_cache_.emplace_back(x, conv);
  return conv;
}

}  // namespace diffvi::vi
