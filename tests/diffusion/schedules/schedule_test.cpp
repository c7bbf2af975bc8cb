// Noise schedules: closed forms, the inverse t(λ) round trip, derivatives against finite
// differences, batched tensor versions against the scalar ones (and their autograd gradients),
// and the discrete schedule against direct cumulative products.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/diffusion/schedules/cosine.h"
#include "diffvi/diffusion/schedules/discrete_schedule.h"
#include "diffvi/diffusion/schedules/fixed_linear_gamma.h"
#include "diffvi/diffusion/schedules/vp_linear.h"

using diffvi::DType;
using diffvi::Tensor;
using diffvi::TensorOptions;
using namespace diffvi::diffusion;

namespace {

struct Named {
  const char* name;
  std::shared_ptr<NoiseSchedule> schedule;
};

std::vector<Named> Schedules() {
  return {{"vp_linear", std::make_shared<VPLinear>()},
          {"cosine", std::make_shared<Cosine>()},
          {"fixed_linear_gamma", std::make_shared<FixedLinearGamma>()},
          {"discrete_1000", std::make_shared<DiscreteLinearBeta>(1000)},
          {"discrete_20", std::make_shared<DiscreteLinearBeta>(20, 1e-4, 0.02, false)}};
}

std::vector<double> Times(const NoiseSchedule& s) {
  std::vector<double> t;
  for (int i = 0; i <= 40; ++i) t.push_back(s.t_eps() + (s.t_max() - s.t_eps()) * i / 40.0);
  return t;
}

TEST(Schedule, AlphaSigmaLambdaAreConsistent) {
  for (const auto& [name, s] : Schedules()) {
    double prev = 1e300;
    for (double t : Times(*s)) {
      const double a = s->alpha(t), sg = s->sigma(t);
      EXPECT_NEAR(a * a + sg * sg, 1.0, 1e-12) << name << " t=" << t;
      EXPECT_NEAR(s->lambda(t), std::log(a / sg), 1e-9) << name;
      EXPECT_NEAR(s->gamma(t), -2 * s->lambda(t), 1e-12) << name;
      EXPECT_LT(s->lambda(t), prev) << name << ": λ must decrease in t";
      prev = s->lambda(t);
    }
  }
}

TEST(Schedule, InverseRoundTripsToRelative1em6) {
  for (const auto& [name, s] : Schedules()) {
    for (double t : Times(*s)) {
      const double back = s->t_of_lambda(s->lambda(t));
      EXPECT_NEAR(back, t, 1e-6 * t) << name << " t=" << t;
    }
  }
}

TEST(Schedule, DerivativesMatchFiniteDifferences) {
  for (const auto& [name, s] : Schedules()) {
    const bool discrete = std::string(name).starts_with("discrete");
    for (double t : Times(*s)) {
      if (discrete) t += 0.37 / 1000;  // stay inside one linear piece
      const double e = 1e-6;
      const double fd = (s->log_alpha(t + e) - s->log_alpha(t - e)) / (2 * e);
      EXPECT_NEAR(s->d_log_alpha_dt(t), fd, 1e-5 * (1 + std::abs(fd))) << name << " t=" << t;
      const double gfd = (s->gamma(t + e) - s->gamma(t - e)) / (2 * e);
      EXPECT_NEAR(s->dgamma_dt(t), gfd, 1e-4 * (1 + std::abs(gfd))) << name << " t=" << t;
    }
  }
}

TEST(Schedule, BatchedMatchesScalarAndDifferentiates) {
  for (const auto& [name, s] : Schedules()) {
    std::vector<double> tv;
    for (double u : {0.013, 0.2, 0.55, 0.9})
      tv.push_back(s->t_eps() + u * (s->t_max() - s->t_eps()));
    Tensor t = diffvi::from_vector(tv, {4}, DType::f64);
    t.set_requires_grad(true);
    auto la = s->log_alpha(t).to_vector<double>();
    auto lam = s->lambda(t);
    auto lamv = lam.to_vector<double>();
    auto sig = s->sigma(t).to_vector<double>();
    auto dg = s->dgamma_dt(t).to_vector<double>();
    for (size_t i = 0; i < tv.size(); ++i) {
      EXPECT_NEAR(la[i], s->log_alpha(tv[i]), 1e-12) << name;
      EXPECT_NEAR(lamv[i], s->lambda(tv[i]), 1e-9) << name;
      EXPECT_NEAR(sig[i], s->sigma(tv[i]), 1e-12) << name;
      EXPECT_NEAR(dg[i], s->dgamma_dt(tv[i]), 1e-8 * (1 + std::abs(dg[i]))) << name;
    }
    // dλ/dt by autograd equals −½ dγ/dt.
    Tensor g = diffvi::grad({diffvi::sum(lam)}, {t})[0];
    auto gv = g.to_vector<double>();
    for (size_t i = 0; i < tv.size(); ++i) {
      EXPECT_NEAR(gv[i], -0.5 * s->dgamma_dt(tv[i]), 1e-7 * (1 + std::abs(gv[i]))) << name;
    }
    // t(λ) batched: round trip and gradient 1 / (dλ/dt).
    Tensor l = diffvi::from_vector(lamv, {4}, DType::f64);
    l.set_requires_grad(true);
    Tensor back = s->t_of_lambda(l);
    auto bv = back.to_vector<double>();
    Tensor gb = diffvi::grad({diffvi::sum(back)}, {l})[0];
    auto gbv = gb.to_vector<double>();
    for (size_t i = 0; i < tv.size(); ++i) {
      EXPECT_NEAR(bv[i], tv[i], 1e-6 * tv[i]) << name;
      EXPECT_NEAR(gbv[i] * gv[i], 1.0, 1e-6) << name;
    }
  }
}

TEST(Schedule, DiscreteMatchesCumulativeProducts) {
  const int n = 1000;
  DiscreteLinearBeta s(n);
  double prod = 1;
  for (int k = 1; k <= n; ++k) {
    const double beta = 1e-4 + (0.02 - 1e-4) * (k - 1) / (n - 1.0);
    prod *= 1 - beta;
    EXPECT_NEAR(s.alpha_bar_at(k), prod, 1e-12 * prod + 1e-15) << k;
    EXPECT_NEAR(s.alpha_bar(s.time_of_step(k)), prod, 1e-12 * prod + 1e-15) << k;
  }
  EXPECT_NEAR(s.lambda(1.0 / n), 4.61, 0.01);
  EXPECT_NEAR(s.lambda(1.0), -5.06, 0.01);
  EXPECT_LT(s.alpha_bar_T(), 1e-4);
}

TEST(Schedule, ShortDiscreteChainsWarn) {
  testing::internal::CaptureStderr();
  DiscreteLinearBeta s50(50), s100(100);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NEAR(s50.alpha_bar_T(), 0.60, 0.01);
  EXPECT_NEAR(s100.alpha_bar_T(), 0.36, 0.01);
  EXPECT_NE(err.find("50 steps"), std::string::npos) << err;
  EXPECT_NE(err.find("100 steps"), std::string::npos) << err;
  testing::internal::CaptureStderr();
  DiscreteLinearBeta s1000(1000);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Schedule, ClosedForms) {
  VPLinear vp(0.1, 20);
  EXPECT_NEAR(vp.log_alpha(0.5), -0.25 * 0.25 * 19.9 - 0.5 * 0.5 * 0.1, 1e-15);
  FixedLinearGamma fg;
  EXPECT_NEAR(fg.gamma(0.0), -13.3, 1e-9);
  EXPECT_NEAR(fg.gamma(1.0), 5.0, 1e-9);
  EXPECT_NEAR(fg.sigma(0.3) * fg.sigma(0.3), 1 / (1 + std::exp(13.3 - 18.3 * 0.3)), 1e-14);
  Cosine cs;
  EXPECT_NEAR(cs.lambda(cs.t_max()), -5.1, 1e-9);  // the tail clip
  EXPECT_NEAR(cs.alpha(0.0), 1.0, 1e-15);
  EXPECT_THROW(VPLinear(1.0, 0.5), diffvi::ValueError);
  EXPECT_THROW(DiscreteSchedule({0.1, 1.5}), diffvi::ValueError);
}

}  // namespace
