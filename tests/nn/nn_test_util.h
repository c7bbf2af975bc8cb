// Helpers for the nn tests: f64 gradcheck of a module with respect to its input and parameters,
// and host-side access to tensor values.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "diffvi/nn/nn.h"
#include "test_util.h"

namespace nntest {

using diffvi::Tensor;

// Gradcheck of m(x) with respect to x and every parameter of m (which must be f64). gradcheck
// perturbs private copies of its inputs, so while f runs, each parameter's impl temporarily
// points at the copy it is handed.
inline ::testing::AssertionResult ModuleGradcheck(diffvi::nn::Module& m, const Tensor& x,
                                                  diffvi::GradcheckOptions options = {}) {
  const std::vector<Tensor> params = m.parameters();
  std::vector<Tensor> inputs = {testutil::Leaf(x)};
  inputs.insert(inputs.end(), params.begin(), params.end());
  auto f = [&](const std::vector<Tensor>& xs) {
    struct Saved {
      diffvi::TensorImpl* impl;
      std::shared_ptr<diffvi::Storage> storage;
      diffvi::Strides strides;
      int64_t offset;
    };
    std::vector<Saved> saved;
    for (size_t k = 0; k < params.size(); ++k) {
      if (xs[k + 1].is_same(params[k])) continue;
      diffvi::TensorImpl* p = params[k].impl();
      saved.push_back({p, p->storage, p->strides, p->offset});
      p->storage = xs[k + 1].impl()->storage;
      p->strides = xs[k + 1].impl()->strides;
      p->offset = xs[k + 1].impl()->offset;
    }
    Tensor out = m(xs[0]);
    for (const Saved& s : saved) {
      s.impl->storage = s.storage;
      s.impl->strides = s.strides;
      s.impl->offset = s.offset;
    }
    return out;
  };
  const diffvi::GradcheckResult r = diffvi::gradcheck(f, inputs, options);
  if (r.ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.message << " (max abs error " << r.max_abs_error << ")";
}

inline std::vector<double> Values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace nntest
