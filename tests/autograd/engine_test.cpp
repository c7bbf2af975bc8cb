// The autograd engine: accumulation through shared subgraphs and reused tensors, long chains,
// memory release, retain_graph, grad(), no-grad, detach, seeds, anomaly mode, create_graph.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

using diffvi::DType;
using diffvi::Tensor;
using testutil::AllClose;
using testutil::Leaf;

namespace {

Tensor Vec(std::initializer_list<double> v) { return diffvi::tensor(v, DType::f64); }

TEST(Engine, TensorUsedTwiceAccumulates) {
  Tensor x = Leaf(Vec({1, -2, 3}));
  diffvi::backward(diffvi::sum(diffvi::mul(x, x)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, -4, 6}));
  // x + x + x: three edges into one leaf.
  Tensor y = Leaf(Vec({5}));
  diffvi::backward(diffvi::sum(y + y + y));
  EXPECT_EQ(y.grad().item(), 3.0);
}

// A leaf keeps its first gradient without a copy only when nothing else holds that memory; a
// gradient shared between leaves (add's backward hands the same tensor to both inputs) or
// still viewed elsewhere is copied, so an in-place update of one .grad (clipping, an optimiser)
// never reaches another.
TEST(Engine, LeafGradientsNeverAliasEachOther) {
  Tensor a = Leaf(diffvi::ones({3, 2}, DType::f64));
  Tensor b = Leaf(diffvi::ones({3, 2}, DType::f64));
  Tensor c = Leaf(diffvi::ones({3, 2}, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::add(diffvi::add(a, b), c)));
  ASSERT_TRUE(a.grad().defined() && b.grad().defined() && c.grad().defined());
  diffvi::raw::fill_(a.grad(), 7.0);
  diffvi::raw::fill_(c.grad(), -3.0);
  for (double v : b.grad().to_vector<double>()) EXPECT_EQ(v, 1.0);
  for (double v : a.grad().to_vector<double>()) EXPECT_EQ(v, 7.0);
  // Through a matmul (a fresh output: kept) and a reshape of a leaf (a view of the gradient).
  Tensor w = Leaf(diffvi::ones({2, 2}, DType::f64));
  Tensor x = Leaf(diffvi::ones({4}, DType::f64));
  diffvi::backward(diffvi::sum(diffvi::matmul(diffvi::reshape(x, {2, 2}), w)));
  diffvi::raw::fill_(w.grad(), 0.0);
  for (double v : x.grad().to_vector<double>()) EXPECT_EQ(v, 2.0);
  EXPECT_TRUE(x.grad().is_contiguous());
}

TEST(Engine, SharedSubgraphIsDifferentiatedOnce) {
  // a = exp(x) feeds both b and c: d/dx sum(2a * 3a) = 12 a^2 (a diamond in the graph).
  Tensor x = Leaf(Vec({0.1, -0.5, 0.7}));
  Tensor a = diffvi::exp(x);
  Tensor out = diffvi::sum(diffvi::mul(diffvi::mul(a, 2.0), diffvi::mul(a, 3.0)));
  diffvi::backward(out);
  std::vector<double> want;
  for (double v : x.to_vector<double>()) want.push_back(12 * std::exp(2 * v));
  EXPECT_TRUE(AllClose(x.grad(), diffvi::from_vector(want, {3}, DType::f64), 1e-14, 1e-14));
  // y = x^2 is reused by a later op and by the output directly.
  Tensor z = Leaf(Vec({0.3, 1.2}));
  Tensor y = diffvi::square(z);
  diffvi::backward(diffvi::sum(y + diffvi::sin(y)));
  std::vector<double> wz;
  for (double v : z.to_vector<double>()) wz.push_back((1 + std::cos(v * v)) * 2 * v);
  EXPECT_TRUE(AllClose(z.grad(), diffvi::from_vector(wz, {2}, DType::f64), 1e-14, 1e-14));
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = Leaf(Vec({1, 2}));
  diffvi::backward(diffvi::sum(diffvi::mul(x, 3.0)));
  diffvi::backward(diffvi::sum(diffvi::mul(x, 4.0)));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{7, 7}));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(Engine, LongChainBackpropagatesIteratively) {
  // 10,000 ops on a tiny tensor: a recursive engine (or recursive node destruction) would
  // overflow the stack, especially under ASan.
  Tensor x = Leaf(Vec({1.0, 2.0}));
  Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = diffvi::mul(y, 1.0001);
  diffvi::backward(diffvi::sum(y));
  const double want = std::pow(1.0001, 10000);
  EXPECT_NEAR(x.grad().to_vector<double>()[0], want, 1e-9 * want);
  EXPECT_NEAR(x.grad().to_vector<double>()[1], want, 1e-9 * want);
  // A chain that is built and dropped without backward is torn down iteratively too.
  Tensor z = x;
  for (int i = 0; i < 10000; ++i) z = diffvi::add(z, 1.0);
  EXPECT_EQ(z.to_vector<double>()[0], 10001.0);
  z = Tensor();
}

TEST(Engine, MemoryReturnsToBaselineAfterBackward) {
  diffvi::CachingAllocator& host = diffvi::host_allocator();
  Tensor x = Leaf(testutil::Uniform({256}, 1, DType::f64));
  const size_t baseline = host.stats().bytes_in_use;
  size_t during = 0;
  {
    Tensor y = x;
    for (int i = 0; i < 50; ++i) y = diffvi::tanh(diffvi::mul(y, 1.01));
    Tensor loss = diffvi::sum(y);
    during = host.stats().bytes_in_use;
    diffvi::backward(loss);
    // The graph is freed while walked: only the loss and x.grad are left.
  }
  EXPECT_GT(during, baseline + 50 * 2048u);  // the saved activations were really held
  EXPECT_EQ(host.stats().bytes_in_use, baseline + 256 * 8);  // + x.grad
  x.set_grad(Tensor());
  EXPECT_EQ(host.stats().bytes_in_use, baseline);
}

TEST(Engine, GraphIsFreedWhileTheOutputIsStillAlive) {
  diffvi::CachingAllocator& host = diffvi::host_allocator();
  Tensor x = Leaf(testutil::Uniform({512}, 2, DType::f64));
  const size_t baseline = host.stats().bytes_in_use;
  Tensor y = x;
  for (int i = 0; i < 20; ++i) y = diffvi::exp(diffvi::mul(y, 0.5));
  Tensor loss = diffvi::sum(y);
  y = Tensor();
  diffvi::backward(loss);
  // Intermediates held only by the graph are gone; loss (64-byte block) and x.grad remain.
  EXPECT_EQ(host.stats().bytes_in_use, baseline + 512 * 8 + 64);
}

TEST(Engine, RetainGraphAllowsASecondBackward) {
  Tensor x = Leaf(Vec({2}));
  Tensor y = diffvi::mul(diffvi::exp(x), 3.0);
  diffvi::backward(y, {}, /*retain_graph=*/true);
  diffvi::backward(y, {}, /*retain_graph=*/false);
  EXPECT_NEAR(x.grad().item(), 2 * 3 * std::exp(2.0), 1e-12);
}

TEST(Engine, SecondBackwardWithoutRetainIsAnError) {
  Tensor x = Leaf(Vec({2}));
  Tensor y = diffvi::exp(diffvi::mul(x, 3.0));
  diffvi::backward(y);
  try {
    diffvi::backward(y);
    FAIL() << "expected AutogradError";
  } catch (const diffvi::AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos) << e.what();
  }
}

TEST(Engine, BackwardClosureReceivesTheNodesInputs) {
  // The engine hands the closure the node's inputs and output; once the graph is freed the
  // closure is never called again (so it never sees released inputs).
  Tensor x = Leaf(Vec({2}));
  Tensor w = diffvi::exp(Leaf(Vec({1})));  // a non-leaf input
  int calls = 0;
  Tensor out;
  out = diffvi::record("probe", diffvi::raw::binary(diffvi::BinaryOp::mul, x, w), {x, w},
                       [&](const diffvi::TensorList& inputs, const Tensor& g,
                           const Tensor& y) -> diffvi::TensorList {
                         ++calls;
                         EXPECT_EQ(inputs.size(), 2u);
                         EXPECT_TRUE(inputs[0].is_same(x));
                         EXPECT_TRUE(inputs[1].is_same(w));
                         EXPECT_TRUE(y.is_same(out));
                         return {diffvi::mul(g, inputs[1]), diffvi::mul(g, inputs[0])};
                       });
  diffvi::backward(out, {}, /*retain_graph=*/true);
  diffvi::backward(out);
  EXPECT_EQ(calls, 2);
  EXPECT_NEAR(x.grad().item(), 2 * std::exp(1.0), 1e-12);
  EXPECT_THROW(diffvi::backward(out), diffvi::AutogradError);
  EXPECT_EQ(calls, 2);
}

TEST(Engine, NoGradGuardStopsRecording) {
  Tensor x = Leaf(Vec({1, 2}));
  {
    diffvi::NoGradGuard guard;
    EXPECT_FALSE(diffvi::grad_enabled());
    Tensor y = diffvi::mul(x, 2.0);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      diffvi::EnableGradGuard enable;
      EXPECT_TRUE(diffvi::mul(x, 2.0).requires_grad());
    }
    EXPECT_FALSE(diffvi::grad_enabled());
  }
  EXPECT_TRUE(diffvi::grad_enabled());
  EXPECT_TRUE(diffvi::mul(x, 2.0).requires_grad());
}

TEST(Engine, DetachBlocksTheGradient) {
  Tensor x = Leaf(Vec({1.5, -2}));
  diffvi::backward(diffvi::sum(diffvi::mul(x, diffvi::detach(x))));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1.5, -2}));  // not 2x
}

TEST(Engine, GradReturnsGradientsWithoutTouchingDotGrad) {
  Tensor x = Leaf(Vec({1, 2})), w = Leaf(Vec({3, 4})), unused = Leaf(Vec({0}));
  Tensor y = diffvi::sum(diffvi::mul(diffvi::square(x), w));
  std::vector<Tensor> g = diffvi::grad({y}, {x, w}, {.retain_graph = true});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{6, 16}));  // 2 x w
  EXPECT_EQ(g[1].to_vector<double>(), (std::vector<double>{1, 4}));   // x^2
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());
  EXPECT_THROW(diffvi::grad({y}, {x, unused}, {.retain_graph = true}), diffvi::AutogradError);
  std::vector<Tensor> g2 = diffvi::grad({y}, {unused, x}, {.allow_unused = true});
  EXPECT_FALSE(g2[0].defined());
  EXPECT_EQ(g2[1].to_vector<double>(), (std::vector<double>{6, 16}));
}

TEST(Engine, GradOfSeveralOutputsSumsThem) {
  Tensor x = Leaf(Vec({1, 2}));
  Tensor a = diffvi::mul(x, 2.0), b = diffvi::square(x);
  std::vector<Tensor> g =
      diffvi::grad({a, b}, {x}, {.grad_outputs = {Vec({1, 1}), Vec({10, 100})}});
  EXPECT_EQ(g[0].to_vector<double>(), (std::vector<double>{2 + 20, 2 + 400}));
}

TEST(Engine, NonScalarBackwardNeedsASeed) {
  Tensor x = Leaf(Vec({1, 2, 3}));
  Tensor y = diffvi::mul(x, 3.0);
  EXPECT_THROW(diffvi::backward(y, {}, true), diffvi::AutogradError);
  EXPECT_THROW(diffvi::backward(y, Vec({1, 2}), true), diffvi::ShapeError);
  diffvi::backward(y, Vec({1, 10, 100}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{3, 30, 300}));
}

TEST(Engine, RetainGradKeepsNonLeafGradient) {
  Tensor x = Leaf(Vec({1, 2}));
  Tensor h = diffvi::mul(x, 3.0);
  h.retain_grad();
  Tensor other = diffvi::mul(x, 5.0);  // no retain_grad: stays empty
  diffvi::backward(diffvi::sum(diffvi::square(h) + other));
  EXPECT_EQ(h.grad().to_vector<double>(), (std::vector<double>{6, 12}));  // 2h
  EXPECT_FALSE(other.grad().defined());
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{18 + 5, 36 + 5}));
  EXPECT_FALSE(h.is_leaf());
  EXPECT_THROW(h.set_requires_grad(false), diffvi::ValueError);
}

TEST(Engine, CreateGraphGivesSecondDerivatives) {
  Tensor x = Leaf(Vec({0.5, -1.5}));
  Tensor y = diffvi::sum(diffvi::pow(x, 3.0));
  std::vector<Tensor> g = diffvi::grad({y}, {x}, {.create_graph = true});
  EXPECT_TRUE(g[0].requires_grad());
  std::vector<Tensor> h = diffvi::grad({diffvi::sum(g[0])}, {x});
  EXPECT_TRUE(AllClose(h[0], Vec({3.0, -9.0}), 1e-12, 1e-12));  // 6x
}

// Restores anomaly mode even when an assertion fails.
struct AnomalyMode {
  AnomalyMode() { diffvi::set_anomaly_mode(true); }
  ~AnomalyMode() { diffvi::set_anomaly_mode(false); }
};

TEST(Engine, AnomalyModeNamesTheForwardOp) {
  AnomalyMode on;
  Tensor x = Leaf(Vec({1, -1}));
  try {
    diffvi::log(x);
    FAIL() << "expected an anomaly error";
  } catch (const diffvi::Error& e) {
    EXPECT_NE(std::string(e.what()).find("log"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(diffvi::exp(x));
}

TEST(Engine, AnomalyModeNamesTheBackwardOp) {
  AnomalyMode on;
  // sqrt(0) is finite but its derivative is infinite.
  Tensor x = Leaf(Vec({0, 1}));
  Tensor y = diffvi::sum(diffvi::sqrt(x));
  try {
    diffvi::backward(y);
    FAIL() << "expected an anomaly error";
  } catch (const diffvi::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sqrt"), std::string::npos) << e.what();
  }
}

TEST(Engine, WithoutAnomalyModeNaNPropagatesSilently) {
  EXPECT_FALSE(diffvi::anomaly_mode());
  EXPECT_TRUE(std::isnan(diffvi::log(Vec({-1})).item()));
}

TEST(Engine, BackwardRunsOnTheSelectedBackend) {
  for (const char* backend : {"cpu", "reference"}) {
    diffvi::BackendGuard guard(backend);
    Tensor x = Leaf(Vec({0.3, 0.4}));
    diffvi::backward(diffvi::sum(diffvi::tanh(x)));
    const std::vector<double> g = x.grad().to_vector<double>();
    EXPECT_NEAR(g[0], 1 - std::pow(std::tanh(0.3), 2), 1e-14) << backend;
  }
}

// --- the test machinery itself must be able to fail
// ------------------------------------------------

TEST(Machinery, GradcheckCatchesAWrongBackward) {
  auto wrong = [](const std::vector<Tensor>& in) {
    // y = x^2 with a backward that forgets the factor 2.
    Tensor out = diffvi::raw::unary(diffvi::UnaryOp::square, in[0]);
    return diffvi::record(
        "wrong_square", out, {in[0]},
        [](const diffvi::TensorList& inputs, const Tensor& g, const Tensor&) -> diffvi::TensorList {
          return {diffvi::mul(g, inputs[0])};
        });
  };
  const Tensor x = Leaf(Vec({0.5, 1.5}));
  const diffvi::GradcheckResult r = diffvi::gradcheck(wrong, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("analytic"), std::string::npos) << r.message;
  EXPECT_TRUE(
      diffvi::gradcheck([](const std::vector<Tensor>& in) { return diffvi::square(in[0]); }, {x})
          .ok);
}

TEST(Machinery, AllCloseAndBackendGuard) {
  EXPECT_FALSE(AllClose(Vec({1, 2}), Vec({1, 2.001})));
  EXPECT_FALSE(AllClose(Vec({1, 2}), Vec({1, 2, 3})));
  EXPECT_TRUE(AllClose(Vec({1, 2}), Vec({1, 2 + 1e-6})));
  EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), "cpu");  // the default
  {
    diffvi::BackendGuard outer("reference");
    EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), "reference");
    {
      diffvi::BackendGuard inner("cpu");
      EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), "cpu");
    }
    EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), "reference");
  }
  EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), "cpu");
  EXPECT_THROW(diffvi::BackendGuard("no-such-backend"), diffvi::ValueError);
}

}  // namespace
