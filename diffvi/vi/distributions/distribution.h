// Distribution: the interface every probability distribution of the vi layer implements, and
// Support, the set a distribution's values live in (bijector.h maps each to the real line).
//
// Shapes follow PyTorch: parameters broadcast to a batch shape; a draw with sample_shape S has
// shape S + batch_shape + event_shape; log_prob(x) reduces the event dims and broadcasts the rest
// of x against the batch shape. Parameters given as doubles are f64 scalars; log_prob casts every
// parameter to the value's dtype, so the same distribution scores f32 and f64 values.
//
// Invalid parameters (a non-positive scale, probabilities not summing to one) raise ValueError
// naming the distribution and the argument, while validation is enabled (the default; model
// evaluation inside inference turns it off, as a divergent trajectory may pass through any value).
#pragma once

#include <memory>
#include <string>

#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/shape.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::vi {

// A distribution parameter: a tensor, or a double (stored as an f64 scalar tensor).
struct Param {
  Tensor t;
  Param(double v);         // NOLINT: Normal(0, 5) reads as written
  Param(const Tensor& v);  // NOLINT
};

// Where a distribution's values live.
struct Support {
  enum class Kind { real, positive, unit_interval, interval, real_vector, integer };
  Kind kind = Kind::real;
  double lower = 0, upper = 0;  // for interval

  static Support real() { return {Kind::real}; }
  static Support positive() { return {Kind::positive}; }
  static Support unit_interval() { return {Kind::unit_interval}; }
  static Support interval(double a, double b) { return {Kind::interval, a, b}; }
  static Support real_vector() { return {Kind::real_vector}; }
  static Support integer() { return {Kind::integer}; }
  // "real", "positive", "interval(0, 1)", ...
  std::string str() const;
};

class Distribution {
 public:
  virtual ~Distribution() = default;

  // "Normal", "Gamma", ... (used in error messages).
  virtual std::string name() const = 0;
  virtual Shape batch_shape() const = 0;
  virtual Shape event_shape() const { return {}; }
  virtual Support support() const = 0;

  // log density (or mass) at `value`: shape broadcast(value's batch part, batch_shape).
  virtual Tensor log_prob(const Tensor& value) const = 0;

  // Whether rsample is available (a reparameterised draw that carries gradients to parameters).
  virtual bool has_rsample() const { return false; }
  // Reparameterised draw of shape sample_shape + batch_shape + event_shape; ValueError when the
  // distribution has none.
  virtual Tensor rsample(const Shape& sample_shape, Generator& gen) const;
  // A draw without gradients (rsample under no-grad unless overridden).
  virtual Tensor sample(const Shape& sample_shape, Generator& gen) const;

  // Closed-form moments and entropy (batch_shape + event_shape, entropy batch_shape); ValueError
  // when none exists.
  virtual Tensor mean() const;
  virtual Tensor variance() const;
  virtual Tensor entropy() const;
  Tensor stddev() const;

 protected:
  [[noreturn]] void unsupported(const std::string& what) const;
};

using DistributionPtr = std::shared_ptr<const Distribution>;

// --- validation -----------------------------------------------------------------------------
bool validation_enabled();
// Disables (or enables) argument validation in this thread while alive.
class ValidationGuard {
 public:
  explicit ValidationGuard(bool enabled);
  ~ValidationGuard();
  ValidationGuard(const ValidationGuard&) = delete;
  ValidationGuard& operator=(const ValidationGuard&) = delete;

 private:
  bool previous_;
};

// --- helpers for implementations ------------------------------------------------------------
namespace detail {
// A scalar parameter as an f64 0-d tensor.
Tensor scalar(double v);
// `p` in the dtype of `like` (p itself when it already is).
Tensor cast_like(const Tensor& p, const Tensor& like);
// The common floating dtype of parameters: f32 if any is f32 and none is f64-but-non-scalar...
// in practice the dtype of the first tensor of non-zero rank, else f64.
DType param_dtype(std::initializer_list<const Tensor*> params);
// ValueError "<dist>: <arg> must be positive, got <value>" unless every element is > 0
// (skipped when validation is off; NaN is reported).
void check_positive(const std::string& dist, const char* arg, const Tensor& t);
// ValueError unless every element lies in [lo, hi].
void check_range(const std::string& dist, const char* arg, const Tensor& t, double lo, double hi);
// Broadcast shape of parameter tensors.
Shape broadcast_all(std::initializer_list<const Tensor*> params);
// Standard normal / uniform(0,1) draws of `shape` in `dtype`.
Tensor std_normal(const Shape& shape, Generator& gen, DType dtype);
Tensor std_uniform(const Shape& shape, Generator& gen, DType dtype);
Shape concat(const Shape& a, const Shape& b);
}  // namespace detail

}  // namespace diffvi::vi
