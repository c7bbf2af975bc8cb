#include "diffvi/solvers/model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::solvers {

Tensor dynamic_threshold(const Tensor& x0, const ThresholdOptions& options) {
  // The per-sample threshold is a statistic, not a path for gradients (as in the reference).
  const int64_t b = x0.size(0);
  const int64_t n = x0.numel() / b;
  std::vector<double> v = abs(detach(x0)).to_vector<double>(), s(b);
  for (int64_t i = 0; i < b; ++i) {
    std::vector<double> row(v.begin() + i * n, v.begin() + (i + 1) * n);
    std::sort(row.begin(), row.end());
    const double pos = options.ratio * static_cast<double>(n - 1);  // linear, as torch.quantile
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, row.size() - 1);
    const double q = row[lo] + (pos - static_cast<double>(lo)) * (row[hi] - row[lo]);
    s[i] = std::max(q, options.max_value);
  }
  Shape shape(static_cast<size_t>(x0.dim()), 1);
  shape[0] = b;
  Tensor st = from_vector(s, shape, TensorOptions(x0.dtype()).set_device(x0.device()));
  return minimum(maximum(x0, neg(st)), st) / st;
}

ModelWrapper::ModelWrapper(Model model, std::shared_ptr<const diffusion::NoiseSchedule> schedule,
                           ModelType type)
    : model_(std::move(model)), schedule_(std::move(schedule)), type_(type) {
  if (!model_) throw ValueError("ModelWrapper: empty model");
  if (!schedule_) throw ValueError("ModelWrapper: null schedule");
}

Tensor ModelWrapper::call(const Tensor& x, double t) {
  ++nfe_;
  smallest_t_ = std::min(smallest_t_, t);
  Tensor tt = full({x.size(0)}, t, TensorOptions(x.dtype()).set_device(x.device()));
  Tensor out = model_(x, tt);
  if (out.shape() != x.shape()) {
    throw ShapeError("ModelWrapper: model returned " + describe(out) + " for input " + describe(x));
  }
  return out;
}

Tensor ModelWrapper::noise(const Tensor& x, double t) {
  Tensor out = call(x, t);
  const double a = schedule_->alpha(t), s = schedule_->sigma(t);
  switch (type_) {
    case ModelType::noise:
      return out;
    case ModelType::x0:
      return (x - a * out) / s;
    case ModelType::v:
      return a * out + s * x;
    case ModelType::score:
      return -s * out;
  }
  return out;
}

Tensor ModelWrapper::data(const Tensor& x, double t) {
  const double a = schedule_->alpha(t), s = schedule_->sigma(t);
  Tensor x0;
  if (type_ == ModelType::x0) {
    x0 = call(x, t);
  } else {
    x0 = (x - s * noise(x, t)) / a;
  }
  return threshold_ ? dynamic_threshold(x0, *threshold_) : x0;
}

Model classifier_free_guidance(ConditionalModel model, Tensor condition, Tensor uncondition,
                               double scale) {
  return [model = std::move(model), c = std::move(condition), u = std::move(uncondition), scale](
             const Tensor& x, const Tensor& t) {
    const int64_t b = x.size(0);
    Tensor out = model(cat({x, x}, 0), cat({t, t}, 0), cat({c, u}, 0));
    Tensor oc = narrow(out, 0, 0, b), ou = narrow(out, 0, b, b);
    return ou + scale * (oc - ou);
  };
}

}  // namespace diffvi::solvers
