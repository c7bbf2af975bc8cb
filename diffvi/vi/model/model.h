// The model API. A user writes a Bayesian model once, as a function of a Trace:
//
//   vi::Model eight_schools([&](vi::Trace& t) {
//     Tensor mu = t.sample("mu", vi::Normal(0, 5));          // [S, 1]
//     Tensor tau = t.sample("tau", vi::HalfCauchy(5));       // [S, 1], positive
//     Tensor eta = t.sample("eta", vi::Normal(0, 1), {8});   // [S, 8]
//     Tensor theta = t.deterministic("theta", mu + tau * eta);
//     t.observe("y", vi::Normal(theta, t.data(sigma)), t.data(y));
//   });
//
// (or as a subclass overriding body()). Latent sites have names, priors with constrained
// supports and shapes; the model flattens them into one unconstrained vector of dim() entries
// (each site a slice, SiteInfo), maps each slice through the bijector of its support and adds the
// log|det J|, and evaluates the log joint for S particles at once: log_density(z [S, d]) -> [S],
// differentiable in z, f32 or f64.
//
// Every value a site returns has a leading particle dim S; a scalar site is [S, 1] so it
// broadcasts against vector sites and against data ([S, 1] op [N] -> [S, N]). Data without a
// particle dim broadcast in the usual way; a likelihood whose log_prob has one more dim than the
// data (minus event dims) is taken to carry the particle dim.
//
// Minibatches: t.plate("data", N) returns a Plate; with EvalOptions::batch_size = b < N it
// holds b indices drawn without replacement, plate.select(x) picks those rows, and an observe()
// given the plate scales its log-likelihood by N / b, so the minibatch log density is unbiased
// for the full one.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/tensor.h"
#include "diffvi/vi/distributions/distribution.h"
#include "diffvi/vi/transforms/bijector.h"

namespace diffvi::vi {

// One latent site of a model: where it sits in the unconstrained vector and how it maps out.
struct SiteInfo {
  std::string name;
  Shape shape;  // the per-particle value shape ({1} for a scalar)
  Support support;
  BijectorPtr bijector;
  int64_t offset = 0;  // first unconstrained coordinate
  int64_t size = 0;    // number of unconstrained coordinates
};

struct EvalOptions {
  // Plates larger than this are subsampled to it (0: full data).
  int64_t batch_size = 0;
  // Draws minibatch indices; required when batch_size > 0.
  Generator* generator = nullptr;

  EvalOptions& set_batch_size(int64_t b) {
    batch_size = b;
    return *this;
  }
  EvalOptions& set_generator(Generator* g) {
    generator = g;
    return *this;
  }
};

// A conditionally independent set of N data points, possibly subsampled.
class Plate {
 public:
  Plate(std::string name, int64_t size, Tensor indices);
  const std::string& name() const { return name_; }
  int64_t size() const { return size_; }         // N
  int64_t batch_size() const { return batch_; }  // |b| (N when not subsampled)
  double scale() const { return static_cast<double>(size_) / batch_; }  // N / |b|
  bool subsampled() const { return indices_.defined(); }
  const Tensor& indices() const { return indices_; }  // i64 [b]; undefined when full
  // The minibatch rows of x along `dim` (x itself when not subsampled).
  Tensor select(const Tensor& x, int64_t dim = 0) const;

 private:
  std::string name_;
  int64_t size_, batch_;
  Tensor indices_;
};

class Model;

// What a model body talks to. Created by Model for each evaluation.
class Trace {
 public:
  enum class Mode { discover, evaluate, constrain };

  // A latent site. The value has shape [S, *shape]; `shape` defaults to the prior's event shape,
  // or {1} for a scalar prior. ValueError for a duplicate name or a discrete prior.
  Tensor sample(const std::string& name, const Distribution& prior, const Shape& shape = {});
  // Observed data: adds log p(data | ...) summed over the data to the log density.
  void observe(const std::string& name, const Distribution& likelihood, const Tensor& data);
  // As above, scaled by plate.scale() = N / |b| (data should be plate.select(full data)).
  void observe(const std::string& name, const Distribution& likelihood, const Tensor& data,
               const Plate& plate);
  // Adds an arbitrary log-weight ([S] or a scalar) to the log density.
  void factor(const std::string& name, const Tensor& log_weight);
  // Records a derived quantity (reported by Model::constrain); returns `value`.
  Tensor deterministic(const std::string& name, const Tensor& value);
  // A plate of `size` data points (subsampled when the evaluation asks for minibatches).
  Plate plate(const std::string& name, int64_t size);
  // `x` in this evaluation's dtype (converted once and cached by the model).
  Tensor data(const Tensor& x);

  int64_t num_particles() const { return S_; }
  DType dtype() const { return dtype_; }
  Mode mode() const { return mode_; }

 private:
  friend class Model;
  Trace(const Model& model, Mode mode, int64_t S, DType dtype);
  void add_term(const Tensor& term);               // [S] or scalar
  Tensor reduce_particles(const Tensor& t) const;  // sums all but the leading dim

  const Model& model_;
  Mode mode_;
  int64_t S_;
  DType dtype_;
  Tensor z_;  // [S, d] in evaluate / constrain mode
  size_t cursor_ = 0;
  Tensor log_density_;
  const EvalOptions* options_ = nullptr;
  std::vector<SiteInfo>* discovered_ = nullptr;
  std::map<std::string, Tensor>* values_ = nullptr;
  std::vector<std::string> observed_;
};

class Model {
 public:
  using Fn = std::function<void(Trace&)>;
  explicit Model(Fn fn);
  virtual ~Model() = default;

  // The model body. The default runs the function given to the constructor; subclasses may
  // override it instead.
  virtual void body(Trace& t) const;

  // Latent sites in order of first appearance (discovered on first use by running the body once).
  const std::vector<SiteInfo>& sites() const;
  // ValueError naming the known sites when absent.
  const SiteInfo& site(const std::string& name) const;
  // Total unconstrained dimension.
  int64_t dim() const;
  // Coordinate names: "mu", "eta[0]", ... (one per unconstrained coordinate).
  std::vector<std::string> coordinate_names() const;

  // Log joint density in unconstrained space (with Jacobians) at z [S, d]: [S], differentiable.
  Tensor log_density(const Tensor& z, const EvalOptions& options = {}) const;
  // Constrained site values and deterministics at z [S, d] (no gradient): name -> [S, *shape].
  std::map<std::string, Tensor> constrain(const Tensor& z) const;
  // The inverse of constrain for latent sites: values name -> [S, *shape] to z [S, d].
  Tensor unconstrain(const std::map<std::string, Tensor>& values) const;
  // For samplers: log density and its gradient at n points z (row-major [n, d], host f64),
  // batched in one evaluation with argument validation off.
  void log_density_and_grad(const double* z, int64_t n, double* logp, double* grad) const;

 protected:
  Model() = default;

 private:
  friend class Trace;
  Tensor cached_data(const Tensor& x, DType dtype) const;

  Fn fn_;
  mutable bool discovered_ = false;
  mutable std::vector<SiteInfo> sites_;
  mutable std::vector<std::pair<Tensor, Tensor>> data_cache_;  // (source, converted)
};

}  // namespace diffvi::vi
