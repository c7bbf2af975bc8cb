#include "diffvi/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/tensor/generator.h"

namespace diffvi {

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<Tensor> checked;
  for (const Tensor& in : inputs) {
    if (in.requires_grad() && in.dtype() != DType::f64) {
      throw DTypeError("gradcheck: inputs that require grad must be f64, got " + describe(in));
    }
    if (in.requires_grad()) checked.push_back(in);
  }
  if (checked.empty()) throw ValueError("gradcheck: no input requires grad");

  Tensor out0 = f(inputs);
  Generator gen(options.seed);
  const Tensor w = randn(out0.shape(), gen, TensorOptions(out0.dtype()).set_device(out0.device()));
  auto objective = [&](const std::vector<Tensor>& xs) { return sum(mul(f(xs), w)); };

  const std::vector<Tensor> analytic = grad({objective(inputs)}, checked, {.allow_unused = true});

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < checked.size(); ++k) {
    const Tensor& x = checked[k];
    // Perturb a private contiguous copy element by element.
    std::vector<Tensor> xs = inputs;
    Tensor probe = raw::clone(x);
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (inputs[j].is_same(x)) xs[j] = probe;
    }
    double* p = probe.data<double>();
    const std::vector<double> a = analytic[k].defined() ? analytic[k].to_vector<double>()
                                                        : std::vector<double>(x.numel(), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double saved = p[i];
      p[i] = saved + options.eps;
      const double up = objective(xs).item();
      p[i] = saved - options.eps;
      const double down = objective(xs).item();
      p[i] = saved;
      const double numeric = (up - down) / (2 * options.eps);
      const double err = std::abs(a[i] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (result.ok && !(err <= options.atol + options.rtol * std::abs(numeric))) {
        result.ok = false;
        std::ostringstream os;
        os.precision(10);
        os << "gradcheck: input " << k << " " << describe(x) << " element " << i << ": analytic "
           << a[i] << " vs numeric " << numeric;
        result.message = os.str();
      }
    }
  }
  return result;
}

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                              const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<size_t> checked;
  for (size_t j = 0; j < inputs.size(); ++j) {
    if (inputs[j].requires_grad()) checked.push_back(j);
  }
  if (checked.empty()) throw ValueError("gradgradcheck: no input requires grad");
  const Tensor out0 = f(inputs);
  Generator gen(options.seed + 1);
  Tensor v = randn(out0.shape(), gen, TensorOptions(out0.dtype()).set_device(out0.device()));
  v.set_requires_grad(true);

  // xs = inputs..., v. gradcheck's finite differences call this under no-grad on copies that do
  // not require grad: those become fresh leaves, since the inner grad() needs a graph either way.
  auto vjp = [&](const std::vector<Tensor>& xs) {
    EnableGradGuard grad_mode(true);
    std::vector<Tensor> args(xs.begin(), xs.end() - 1);
    std::vector<Tensor> wrt;
    for (size_t j : checked) {
      if (!args[j].requires_grad()) {
        args[j] = raw::clone(args[j]);
        args[j].set_requires_grad(true);
      }
      wrt.push_back(args[j]);
    }
    const Tensor seed = xs.back();
    const Tensor out = f(args);
    if (!out.requires_grad()) {
      throw ValueError("gradgradcheck: f's output does not depend on its inputs");
    }
    const std::vector<Tensor> gs =
        grad({out}, wrt, {.grad_outputs = {seed}, .create_graph = true, .allow_unused = true});
    std::vector<Tensor> flat;
    for (size_t k = 0; k < gs.size(); ++k) {
      flat.push_back(gs[k].defined() ? flatten(gs[k]) : flatten(zeros_like(wrt[k])));
    }
    return cat(flat);
  };
  std::vector<Tensor> xs = inputs;
  xs.push_back(v);
  GradcheckResult r = gradcheck(vjp, xs, options);
  if (!r.ok)
    r.message =
        "gradgradcheck (input " + std::to_string(inputs.size()) + " is the seed v): " + r.message;
  return r;
}

}  // namespace diffvi
