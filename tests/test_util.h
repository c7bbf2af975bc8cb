// Shared helpers for the diffvi core tests: seeded random tensors, a tolerance check that reports
// the first mismatching element, backend switching, and non-contiguous views with given values.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"

namespace testutil {

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;

// Uniform values in [lo, hi) from a fixed seed (counter-based, so identical on every backend).
inline Tensor Uniform(const Shape& shape, uint64_t seed, DType dtype = DType::f32, double lo = -1.0,
                      double hi = 1.0) {
  diffvi::Generator gen(seed);
  return diffvi::uniform(shape, lo, hi, gen, diffvi::TensorOptions(dtype));
}

// Values of magnitude in [lo, hi) with a random sign: keeps gradchecks away from the kinks of
// abs/relu/sign/clamp and away from the poles of 1/x.
inline Tensor AwayFromZero(const Shape& shape, uint64_t seed, DType dtype = DType::f32,
                           double lo = 0.2, double hi = 1.5) {
  diffvi::Generator gen(seed);
  diffvi::Tensor mag = diffvi::uniform(shape, lo, hi, gen, diffvi::TensorOptions(DType::f64));
  diffvi::Tensor sgn = diffvi::uniform(shape, -1.0, 1.0, gen, diffvi::TensorOptions(DType::f64));
  std::vector<double> m = mag.to_vector<double>(), s = sgn.to_vector<double>();
  for (size_t i = 0; i < m.size(); ++i) m[i] = s[i] < 0 ? -m[i] : m[i];
  return diffvi::from_vector(m, shape, diffvi::TensorOptions(dtype));
}

// A leaf copy of `x` that requires grad (for gradcheck / backward).
inline Tensor Leaf(const Tensor& x) {
  Tensor t = diffvi::raw::clone(x);
  t.set_requires_grad(true);
  return t;
}

// Same values as `x`, but stored non-contiguously: every other element of a buffer twice as
// long in the last dim. Rank-0 and size-0 tensors are returned as a plain copy.
inline Tensor StridedCopy(const Tensor& x) {
  if (x.dim() == 0 || x.numel() == 0) return diffvi::raw::clone(x);
  Shape big = x.shape();
  big.back() *= 2;
  Tensor storage = diffvi::full(big, 12345.0, diffvi::TensorOptions(x.dtype()));
  Tensor view = diffvi::raw::slice(storage, -1, 0, big.back(), 2);
  diffvi::raw::copy_(view, x);
  return view;
}

// Same values as `x` (rank >= 2), stored transposed in its last two dims: the view a
// transposed weight or a permuted activation produces.
inline Tensor TransposedCopy(const Tensor& x) {
  if (x.dim() < 2) return StridedCopy(x);
  Tensor t = diffvi::raw::contiguous(diffvi::raw::transpose(x, -1, -2));
  return diffvi::raw::transpose(t, -1, -2);
}

// |a - b| <= atol + rtol * |b| elementwise (b is the oracle); NaNs must match and infinities
// must agree exactly. Shapes and dtypes must agree. Reports the first offending element.
inline ::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double rtol = 1e-5,
                                           double atol = 1e-5) {
  if (!a.defined() || !b.defined()) {
    return ::testing::AssertionFailure()
           << "undefined tensor: a=" << a.defined() << " b=" << b.defined();
  }
  if (a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << diffvi::shape_str(a.shape()) << " vs " << diffvi::shape_str(b.shape());
  }
  if (a.dtype() != b.dtype()) {
    return ::testing::AssertionFailure()
           << "dtype " << diffvi::dtype_name(a.dtype()) << " vs " << diffvi::dtype_name(b.dtype());
  }
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    const double x = va[i], y = vb[i];
    bool ok;
    if (std::isnan(x) || std::isnan(y)) {
      ok = std::isnan(x) && std::isnan(y);
    } else if (std::isinf(x) || std::isinf(y)) {
      ok = x == y;
    } else {
      const double err = std::abs(x - y);
      worst = std::max(worst, err);
      ok = err <= atol + rtol * std::abs(y);
    }
    if (!ok) {
      std::ostringstream os;
      os.precision(10);
      os << "element " << i << " of " << diffvi::describe(a) << ": " << x << " vs expected " << y
         << " (|diff| " << std::abs(x - y) << ", rtol " << rtol << ", atol " << atol << ")";
      return ::testing::AssertionFailure() << os.str();
    }
  }
  return ::testing::AssertionSuccess() << "max |diff| " << worst;
}

// Exact equality of values (shape too); for ops that only move data.
inline ::testing::AssertionResult Equal(const Tensor& a, const Tensor& b) {
  return AllClose(a, b, 0.0, 0.0);
}

// Runs f with every CPU-device op routed to backend `name`.
template <class F>
auto OnBackend(const std::string& name, F&& f) {
  diffvi::BackendGuard guard(name);
  return f();
}

// The thread counts every parity check runs each backend at: the CPU backend's serial path and
// its threaded one (a kernel splits work only above its threshold, so the tables hold shapes
// above it too).
inline const std::vector<int>& ParityThreadCounts() {
  static const std::vector<int> counts = {1, 2};
  return counts;
}

// Sets the thread count for a scope and restores the previous one.
class ThreadCountGuard {
 public:
  explicit ThreadCountGuard(int n) : saved_(diffvi::get_num_threads()) {
    diffvi::set_num_threads(n);
  }
  ~ThreadCountGuard() { diffvi::set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

// Every registered backend of the host device except the oracle, in registration order: the
// optimised CPU backend, and the tests' primitives-only backend where the executable links it
// (tests/backends/primitives_backend.cpp). A new backend is enrolled by registering it.
inline std::vector<std::string> ParityBackends() {
  std::vector<std::string> names;
  for (diffvi::Backend* b : diffvi::registered_backends()) {
    if (b->device_type() == diffvi::DeviceType::cpu && std::string(b->name()) != "reference") {
      names.push_back(b->name());
    }
  }
  return names;
}

// The oracle first, then every ParityBackends(): what gradchecks and per-backend loops walk.
inline std::vector<std::string> HostBackends() {
  std::vector<std::string> names = {"reference"};
  for (const std::string& n : ParityBackends()) names.push_back(n);
  return names;
}

// Every ParityBackends() at each of ParityThreadCounts(), against the reference oracle on the
// same inputs.
inline ::testing::AssertionResult BackendsMatchReference(const std::function<Tensor()>& f,
                                                         double rtol = 1e-5, double atol = 1e-5) {
  Tensor ref = OnBackend("reference", f);
  for (const std::string& backend : ParityBackends()) {
    for (int threads : ParityThreadCounts()) {
      ThreadCountGuard guard(threads);
      Tensor out = OnBackend(backend, f);
      ::testing::AssertionResult r = AllClose(out, ref, rtol, atol);
      if (!r) {
        return ::testing::AssertionFailure()
               << "[" << backend << "] at " << threads << " threads: " << r.message();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Gradcheck of f on `inputs` (f64 leaves) on the given backend; failure carries the message.
inline ::testing::AssertionResult GradcheckOn(
    const std::string& backend, const std::function<Tensor(const std::vector<Tensor>&)>& f,
    const std::vector<Tensor>& inputs, diffvi::GradcheckOptions options = {}) {
  diffvi::BackendGuard guard(backend);
  const diffvi::GradcheckResult r = diffvi::gradcheck(f, inputs, options);
  if (r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "[" << backend << "] " << r.message << " (max abs error " << r.max_abs_error << ")";
}

// Gradcheck on the reference backend and on every ParityBackends().
#define EXPECT_GRADCHECK(f, inputs)                                           \
  do {                                                                        \
    for (const std::string& gradcheck_backend : ::testutil::HostBackends()) { \
      EXPECT_TRUE(::testutil::GradcheckOn(gradcheck_backend, (f), (inputs))); \
    }                                                                         \
  } while (0)

// Gradients of sum(f(inputs) * seed) with respect to every floating input, computed on
// `backend` (f32 backward kernels are not covered by the f64 gradcheck, so compare them too).
inline std::vector<Tensor> GradsOn(const std::string& backend,
                                   const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                   const std::vector<Tensor>& inputs) {
  diffvi::BackendGuard guard(backend);
  std::vector<Tensor> args, leaves;
  for (const Tensor& in : inputs) {
    if (diffvi::is_floating(in.dtype())) {
      args.push_back(Leaf(in));
      leaves.push_back(args.back());
    } else {
      args.push_back(in);
    }
  }
  Tensor out = f(args);
  Tensor seed = Uniform(out.shape(), 777, out.dtype());
  diffvi::GradOptions options;
  options.grad_outputs = {seed};
  options.allow_unused = true;
  std::vector<Tensor> g = diffvi::grad({out}, leaves, options);
  for (size_t i = 0; i < g.size(); ++i) {
    if (!g[i].defined()) g[i] = diffvi::zeros_like(leaves[i]);
  }
  return g;
}

// Every ParityBackends()' gradients against the reference backend's on the same inputs.
inline ::testing::AssertionResult BackwardBackendsMatchReference(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
    double rtol = 1e-5, double atol = 1e-5) {
  std::vector<Tensor> ref = GradsOn("reference", f, inputs);
  for (const std::string& backend : ParityBackends()) {
    for (int threads : ParityThreadCounts()) {
      ThreadCountGuard guard(threads);
      std::vector<Tensor> out = GradsOn(backend, f, inputs);
      for (size_t i = 0; i < out.size(); ++i) {
        ::testing::AssertionResult r = AllClose(out[i], ref[i], rtol, atol);
        if (!r) {
          return ::testing::AssertionFailure()
                 << "[" << backend << "] at " << threads << " threads, gradient of input " << i
                 << ": " << r.message();
        }
      }
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string ShapeName(const Shape& s) { return diffvi::shape_str(s); }

}  // namespace testutil
