// Optimizers: one step of each against its closed-form update (f64, on the host), the fused AdamW
// against an op-by-op per-parameter reference, parameter groups, state export/import with
// bit-exact resume, gradient clipping, EMA and LR schedules.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "nn_test_util.h"

namespace nn = diffvi::nn;
using diffvi::DType;
using diffvi::Tensor;
using nntest::Values;
using testutil::AllClose;

namespace {

Tensor Param(const diffvi::Shape& shape, uint64_t seed, DType dt = DType::f64) {
  return testutil::Leaf(testutil::Uniform(shape, seed, dt));
}
void SetGrad(Tensor& p, uint64_t seed) {
  p.set_grad(testutil::Uniform(p.shape(), seed, p.dtype()));
}
Tensor Host(const std::vector<double>& v, const diffvi::Shape& shape) {
  return diffvi::from_vector(v, shape, DType::f64);
}

TEST(SGD, ClosedFormWithMomentumNesterovAndDecay) {
  for (bool nesterov : {false, true}) {
    Tensor p = Param({2, 3}, 1);
    std::vector<double> pv = Values(p), buf(6);
    const double lr = 0.1, mu = 0.9, wd = 0.01;
    nn::SGD sgd({p},
                nn::SGDOptions(lr).set_momentum(mu).set_weight_decay(wd).set_nesterov(nesterov));
    for (int step = 0; step < 3; ++step) {
      SetGrad(p, 10 + step);
      const std::vector<double> g = Values(p.grad());
      for (int i = 0; i < 6; ++i) {
        const double gi = g[i] + wd * pv[i];
        buf[i] = step == 0 ? gi : mu * buf[i] + gi;
        pv[i] -= lr * (nesterov ? gi + mu * buf[i] : buf[i]);
      }
      sgd.step();
      EXPECT_TRUE(AllClose(p, Host(pv, {2, 3}), 1e-14, 1e-14)) << "step " << step;
    }
  }
  Tensor q = Param({2}, 2);
  EXPECT_THROW(nn::SGD({q}, nn::SGDOptions(0.1).set_nesterov(true)), diffvi::ValueError);
}

TEST(SGD, PlainStepAndSkipsParametersWithoutGrad) {
  Tensor p = Param({4}, 3), q = Param({2}, 4);
  const std::vector<double> p0 = Values(p), q0 = Values(q);
  SetGrad(p, 5);
  const std::vector<double> g = Values(p.grad());
  nn::SGD sgd({p, q}, nn::SGDOptions(0.5));
  sgd.step();
  std::vector<double> expected = p0;
  for (int i = 0; i < 4; ++i) expected[i] -= 0.5 * g[i];
  EXPECT_TRUE(AllClose(p, Host(expected, {4}), 1e-15, 1e-15));
  EXPECT_EQ(Values(q), q0);
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
}

// Host Adam/AdamW: `decoupled` decays the parameter, else the gradient (L2).
void HostAdam(std::vector<double>& p, std::vector<double>& m, std::vector<double>& v,
              const std::vector<double>& g, int t, double lr, double wd, bool decoupled) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (size_t i = 0; i < p.size(); ++i) {
    double gi = g[i];
    if (decoupled) {
      p[i] -= lr * wd * p[i];
    } else {
      gi += wd * p[i];
    }
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
    p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
  }
}

TEST(Adam, ClosedFormAdamAndAdamW) {
  for (bool decoupled : {false, true}) {
    Tensor p = Param({3, 2}, 6);
    std::vector<double> pv = Values(p), m(6), v(6);
    const double lr = 0.01, wd = 0.1;
    const nn::AdamOptions options = nn::AdamOptions(lr).set_weight_decay(wd);
    std::unique_ptr<nn::Optimizer> opt;
    if (decoupled) {
      opt = std::make_unique<nn::AdamW>(std::vector<Tensor>{p}, options);
    } else {
      opt = std::make_unique<nn::Adam>(std::vector<Tensor>{p}, options);
    }
    for (int t = 1; t <= 3; ++t) {
      SetGrad(p, 20 + t);
      HostAdam(pv, m, v, Values(p.grad()), t, lr, wd, decoupled);
      opt->step();
      EXPECT_TRUE(AllClose(p, Host(pv, {3, 2}), 1e-13, 1e-14)) << opt->name() << " step " << t;
    }
    EXPECT_EQ(opt->step_count(), 3);
  }
  EXPECT_DOUBLE_EQ(nn::AdamWOptions().weight_decay, 1e-2);
}

// One AdamW update of one parameter from autograd-level ops (under NoGradGuard).
void OpByOpAdamW(Tensor& p, Tensor& m, Tensor& v, int t, double lr, double wd) {
  diffvi::NoGradGuard no_grad;
  const Tensor g = p.grad();
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const Tensor decayed = diffvi::mul(p, 1 - lr * wd);
  m = diffvi::add(diffvi::mul(m, b1), diffvi::mul(g, 1 - b1));
  v = diffvi::add(diffvi::mul(v, b2), diffvi::mul(diffvi::square(g), 1 - b2));
  const Tensor mhat = diffvi::div(m, 1 - std::pow(b1, t));
  const Tensor vhat = diffvi::div(v, 1 - std::pow(b2, t));
  diffvi::raw::copy_(
      p, diffvi::sub(decayed,
                     diffvi::mul(diffvi::div(mhat, diffvi::add(diffvi::sqrt(vhat), eps)), lr)));
}

TEST(AdamW, FusedStepEqualsPerParameterReference) {
  for (DType dt : {DType::f64, DType::f32}) {
    const std::vector<diffvi::Shape> shapes = {{4, 3}, {3}, {2, 2, 5}, {1}};
    std::vector<Tensor> fused, ref, m, v;
    for (size_t i = 0; i < shapes.size(); ++i) {
      fused.push_back(Param(shapes[i], 30 + i, dt));
      ref.push_back(testutil::Leaf(fused.back()));
      m.push_back(diffvi::zeros(shapes[i], dt));
      v.push_back(diffvi::zeros(shapes[i], dt));
    }
    nn::AdamW opt(fused, nn::AdamWOptions(0.05));
    for (int t = 1; t <= 3; ++t) {
      for (size_t i = 0; i < shapes.size(); ++i) {
        SetGrad(fused[i], 100 * t + i);
        ref[i].set_grad(fused[i].grad());
        OpByOpAdamW(ref[i], m[i], v[i], t, 0.05, 1e-2);
      }
      opt.step();
      const double tol = dt == DType::f64 ? 1e-14 : 1e-6;
      for (size_t i = 0; i < shapes.size(); ++i) {
        EXPECT_TRUE(AllClose(fused[i], ref[i], tol, tol)) << "param " << i << " step " << t;
      }
    }
  }
}

TEST(AdamW, DecayGroupsExemptBiasesAndNorms) {
  diffvi::Generator gen(7);
  nn::MLP mlp(nn::MLPOptions({3, 4, 2}).set_norm(nn::NormKind::layer_norm), gen);
  mlp.to(DType::f64);
  const std::vector<nn::ParamGroup> groups = nn::split_decay_groups(mlp.named_parameters());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].params.size(), 2u);  // the two weight matrices
  EXPECT_EQ(groups[1].params.size(), 4u);  // two biases, the norm's weight and bias
  const double lr = 0.01, wd = 0.5;
  nn::AdamW opt(groups, nn::AdamOptions(lr).set_weight_decay(wd));
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].weight_decay, wd);
  EXPECT_DOUBLE_EQ(opt.param_groups()[1].weight_decay, 0.0);
  // A zero gradient isolates the decay: weights shrink by (1 - lr·wd), the rest stay.
  const std::vector<Tensor> params = mlp.parameters();
  std::vector<std::vector<double>> before;
  for (Tensor p : params) {
    before.push_back(Values(p));
    p.set_grad(diffvi::zeros_like(p));
  }
  opt.step();
  for (size_t i = 0; i < params.size(); ++i) {
    std::vector<double> expected = before[i];
    if (params[i].dim() >= 2) {
      for (double& x : expected) x *= 1 - lr * wd;
    }
    EXPECT_TRUE(AllClose(params[i], Host(expected, params[i].shape()), 1e-15, 1e-15)) << i;
  }
}

// Trains a small MLP for `steps` with AdamW + cosine schedule + clipping + dropout.
struct Trainer {
  diffvi::Generator gen{99};
  std::shared_ptr<nn::MLP> mlp;
  std::unique_ptr<nn::AdamW> opt;
  nn::CosineLR schedule{10, 2};
  Trainer() {
    mlp = std::make_shared<nn::MLP>(nn::MLPOptions({3, 8, 2}).set_dropout(0.1), gen);
    opt = std::make_unique<nn::AdamW>(nn::split_decay_groups(mlp->named_parameters()),
                                      nn::AdamWOptions(0.01));
  }
  void run(int steps) {
    for (int s = 0; s < steps; ++s) {
      const int k = static_cast<int>(opt->step_count());
      const Tensor x = testutil::Uniform({4, 3}, 500 + k);
      opt->zero_grad();
      diffvi::backward(diffvi::mean(diffvi::square((*mlp)(x))));
      nn::clip_grad_norm_(mlp->parameters(), 0.5);
      schedule.apply(*opt);
      opt->step();
    }
  }
};

TEST(Optimizer, AParameterListedTwiceIsRejectedAtConstruction) {
  // It used to be stepped twice per step(), with two sets of state.
  Tensor p = Param({3}, 1), q = Param({2, 2}, 2);
  try {
    nn::AdamW opt({p, q, p});
    ADD_FAILURE() << "no ValueError";
  } catch (const diffvi::ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("AdamW"), std::string::npos) << what;
    EXPECT_NE(what.find("parameter 2 of group 0"), std::string::npos) << what;
    EXPECT_NE(what.find("already parameter 0 of group 0"), std::string::npos) << what;
  }
  // Across groups too, and for every optimizer.
  std::vector<nn::ParamGroup> groups(2);
  groups[0].params = {p};
  groups[1].params = {q, p};
  try {
    nn::SGD opt(groups, nn::SGDOptions(0.1));
    ADD_FAILURE() << "no ValueError";
  } catch (const diffvi::ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("parameter 1 of group 1"), std::string::npos) << what;
    EXPECT_NE(what.find("already parameter 0 of group 0"), std::string::npos) << what;
  }
  EXPECT_THROW(nn::Adam({q, q}, nn::AdamOptions(0.1)), diffvi::ValueError);
  EXPECT_NO_THROW(nn::Adam({p, q}, nn::AdamOptions(0.1)));
}

TEST(Optimizer, StateDictResumesBitExactly) {
  Trainer straight;
  straight.run(6);
  Trainer first;
  first.run(2);
  const nn::TensorDict model = first.mlp->state_dict();
  const nn::TensorDict optim = first.opt->state_dict();
  EXPECT_EQ(optim[0].first, "step");
  EXPECT_EQ(nn::find_tensor(optim, "state.0.exp_avg").shape(), (diffvi::Shape{8, 3}));
  const uint64_t seed = first.gen.seed(), offset = first.gen.offset();
  Trainer resumed;
  resumed.mlp->load_state_dict(model);
  resumed.opt->load_state_dict(optim);
  resumed.gen.set_state(seed, offset);
  // An optimizer's state dict is a snapshot (a module's shares data with the module).
  const Tensor m_saved = diffvi::raw::clone(nn::find_tensor(optim, "state.0.exp_avg"));
  first.run(1);
  EXPECT_TRUE(testutil::Equal(nn::find_tensor(optim, "state.0.exp_avg"), m_saved));
  EXPECT_EQ(resumed.opt->step_count(), 2);
  resumed.run(4);
  const std::vector<Tensor> a = straight.mlp->parameters(), b = resumed.mlp->parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(testutil::Equal(a[i], b[i])) << i;
}

TEST(Optimizer, LoadStateDictReportsKeysByName) {
  Tensor p = Param({2, 3}, 1), q = Param({3}, 2);
  nn::SGD sgd({p, q}, nn::SGDOptions(0.1).set_momentum(0.9));
  SetGrad(p, 3);
  sgd.step();  // creates state.0 only (q has no gradient)
  nn::TensorDict state = sgd.state_dict();
  EXPECT_TRUE(nn::find_tensor(state, "state.0.momentum_buffer").defined());
  EXPECT_FALSE(nn::find_tensor(state, "state.1.momentum_buffer").defined());
  nn::SGD fresh({p, q}, nn::SGDOptions(0.1).set_momentum(0.9));
  fresh.load_state_dict(state);
  EXPECT_EQ(fresh.step_count(), 1);

  nn::TensorDict bad = state;
  bad.erase(bad.begin());  // "step"
  bad.emplace_back("state.7.momentum_buffer", diffvi::zeros({1}));
  try {
    fresh.load_state_dict(bad);
    FAIL() << "expected a ValueError";
  } catch (const diffvi::ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("missing keys: step"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected keys: state.7.momentum_buffer"), std::string::npos) << what;
  }
  nn::TensorDict misshaped = state;
  misshaped.back().second = diffvi::zeros({3, 2});
  EXPECT_THROW(fresh.load_state_dict(misshaped), diffvi::ShapeError);
}

TEST(ClipGradNorm, ReturnsTheNormAndScales) {
  Tensor p = Param({3}, 1), q = Param({2}, 2), r = Param({2}, 3);
  p.set_grad(Host({3, 0, 0}, {3}));
  q.set_grad(Host({0, 4}, {2}));
  EXPECT_DOUBLE_EQ(nn::clip_grad_norm_({p, q, r}, 10.0), 5.0);
  EXPECT_EQ(Values(p.grad()), (std::vector<double>{3, 0, 0}));  // below the limit: untouched
  EXPECT_DOUBLE_EQ(nn::clip_grad_norm_({p, q, r}, 1.0), 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  EXPECT_TRUE(AllClose(p.grad(), Host({3 * c, 0, 0}, {3}), 1e-15, 1e-15));
  EXPECT_TRUE(AllClose(q.grad(), Host({0, 4 * c}, {2}), 1e-15, 1e-15));
}

TEST(EMA, UpdateSwapInAndState) {
  diffvi::Generator gen(8);
  nn::Linear lin(2, 2, nn::LinearOptions(), gen);
  lin.to(DType::f64);
  nn::EMA ema(lin);
  const std::vector<double> w0 = Values(lin.weight);
  diffvi::raw::fill_(lin.weight, 1.0);
  ema.update(0.9);
  std::vector<double> expected = w0;
  for (double& x : expected) x = 0.9 * x + 0.1 * 1.0;
  EXPECT_TRUE(AllClose(ema.shadow()[0].second, Host(expected, {2, 2}), 1e-15, 1e-15));
  {
    auto guard = ema.swap_in();
    EXPECT_TRUE(AllClose(lin.weight, Host(expected, {2, 2}), 1e-15, 1e-15));
  }
  EXPECT_TRUE(testutil::Equal(lin.weight, diffvi::ones({2, 2}, DType::f64)));
  const nn::TensorDict state = ema.state_dict();
  EXPECT_EQ(state[0].first, "weight");
  EXPECT_EQ(state.back().first, "num_updates");
  nn::EMA other(lin);
  other.load_state_dict(state);
  EXPECT_EQ(other.num_updates(), 1);
  EXPECT_TRUE(testutil::Equal(other.shadow()[0].second, ema.shadow()[0].second));
  EXPECT_THROW(ema.update(1.5), diffvi::ValueError);
  ema.copy_to_module();
  EXPECT_TRUE(AllClose(lin.weight, Host(expected, {2, 2}), 1e-15, 1e-15));
}

TEST(LRSchedule, ValuesAndApply) {
  nn::ConstantLR constant;
  EXPECT_EQ(constant.lr(0.1, 1000), 0.1);
  nn::LinearWarmupLR warm(4);
  EXPECT_DOUBLE_EQ(warm.factor(0), 0.25);
  EXPECT_DOUBLE_EQ(warm.factor(3), 1.0);
  EXPECT_DOUBLE_EQ(warm.factor(100), 1.0);
  nn::CosineLR cosine(12, 2, 0.1);
  EXPECT_DOUBLE_EQ(cosine.factor(0), 0.5);
  EXPECT_DOUBLE_EQ(cosine.factor(2), 1.0);
  EXPECT_NEAR(cosine.factor(7), 0.1 + 0.9 * 0.5, 1e-15);  // halfway through the decay
  EXPECT_DOUBLE_EQ(cosine.factor(12), 0.1);
  EXPECT_DOUBLE_EQ(cosine.factor(50), 0.1);
  EXPECT_THROW(nn::CosineLR(5, 6), diffvi::ValueError);
  Tensor p = Param({2}, 1), q = Param({2}, 2);
  nn::SGD sgd({nn::ParamGroup{{p}, 1.0, {}}, nn::ParamGroup{{q}, {}, {}}}, nn::SGDOptions(0.1));
  cosine.apply(sgd, 0);
  EXPECT_DOUBLE_EQ(sgd.param_groups()[0].lr, 0.5);
  EXPECT_DOUBLE_EQ(sgd.param_groups()[1].lr, 0.05);
}

}  // namespace
