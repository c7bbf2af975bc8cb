// Forward process: z_t statistics, the posterior against the Gaussian conditioning formula
// computed independently, and gradients by gradcheck.
#include "diffvi/diffusion/process/forward_process.h"

#include <gtest/gtest.h>

#include <cmath>

#include "diffvi/autograd/engine.h"
#include "diffvi/autograd/gradcheck.h"
#include "diffvi/autograd/ops.h"
#include "diffvi/diffusion/problems/gaussian_mixture.h"
#include "diffvi/diffusion/schedules/vp_linear.h"

using diffvi::DType;
using diffvi::Tensor;
using namespace diffvi::diffusion;

namespace {

TEST(ForwardProcess, SampleHasTheMarginalMoments) {
  VPLinear s;
  diffvi::Generator gen(3);
  Tensor x = diffvi::full({20000, 1}, 2.0, DType::f64);
  auto fs = sample_forward(s, x, diffvi::scalar_tensor(0.4, DType::f64), gen);
  const double m = diffvi::mean(fs.z).item(), v = diffvi::var(fs.z).item();
  EXPECT_NEAR(m, 2 * s.alpha(0.4), 0.03);
  EXPECT_NEAR(v, s.sigma(0.4) * s.sigma(0.4), 0.03);
  Tensor recon = s.alpha(0.4) * x + s.sigma(0.4) * fs.eps;
  EXPECT_LT(diffvi::max(diffvi::abs(recon - fs.z)).item(), 1e-12);
}

TEST(ForwardProcess, PosteriorMatchesGaussianConditioning) {
  // z_s = α_s x + σ_s e1, z_t = α_{t|s} z_s + σ_{t|s} e2: condition the joint Gaussian on z_t.
  VPLinear sch;
  const double s = 0.3, t = 0.7, x = 0.8, zt = -0.4;
  const double as = sch.alpha(s), at = sch.alpha(t), ats = at / as;
  const double vs = 1 - as * as, vts = 1 - ats * ats, vt = ats * ats * vs + vts;
  const double cov = ats * vs;  // Cov(z_s, z_t | x)
  const double mean = as * x + cov / vt * (zt - at * x), var = vs - cov * cov / vt;
  Tensor ts = diffvi::from_vector(std::vector<double>{s, s}, {2}, DType::f64);
  Tensor tt = diffvi::from_vector(std::vector<double>{t, t}, {2}, DType::f64);
  auto post = forward_posterior(sch, diffvi::full({2, 3}, zt, DType::f64),
                                diffvi::full({2, 3}, x, DType::f64), ts, tt);
  EXPECT_NEAR(post.mean.to_vector<double>()[4], mean, 1e-12);
  EXPECT_NEAR(post.var.to_vector<double>()[1], var, 1e-12);
}

TEST(ForwardProcess, PosteriorGradcheck) {
  VPLinear sch;
  auto f = [&](const std::vector<Tensor>& in) {
    auto p = forward_posterior(sch, in[0], in[1], in[2], in[3]);
    return p.mean + p.var;
  };
  diffvi::Generator gen(5);
  auto leaf = [](Tensor t) { return t.set_requires_grad(true); };
  std::vector<Tensor> in{
      leaf(diffvi::randn({3, 2}, gen, DType::f64)), leaf(diffvi::randn({3, 2}, gen, DType::f64)),
      leaf(diffvi::from_vector(std::vector<double>{0.1, 0.2, 0.3}, {3}, DType::f64)),
      leaf(diffvi::from_vector(std::vector<double>{0.5, 0.6, 0.9}, {3}, DType::f64))};
  auto r = diffvi::gradcheck(f, in);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(GaussianMixture, OptimalEpsIsMinusSigmaTimesScore) {
  VPLinear sch;
  GaussianMixtureData data({1.0, 2.0}, {{-1.0, 0.5}, {1.5, -0.5}}, {{0.3, 0.6}, {0.5, 0.4}});
  diffvi::Generator gen(9);
  Tensor z = diffvi::randn({5, 2}, gen, DType::f64);
  z.set_requires_grad(true);
  const double t = 0.35;
  Tensor logp = data.log_density(sch, z, t);
  Tensor score = diffvi::grad({diffvi::sum(logp)}, {z})[0];
  Tensor eps = data.optimal_eps(sch, z, t);
  EXPECT_LT(diffvi::max(diffvi::abs(eps + sch.sigma(t) * score)).item(), 1e-10);
}

TEST(GaussianMixture, OdeSolutionIsConsistentWithEps) {
  // d/dt of the exact solution equals the probability-flow drift f x − ½ g² ∇ log p.
  VPLinear sch;
  auto data = GaussianMixtureData::diagonal({0.5, -1.0, 2.0}, {0.4, 1.0, 1.5});
  diffvi::Generator gen(2);
  Tensor z1 = diffvi::randn({4, 3}, gen, DType::f64);
  const double t = 0.4, e = 1e-5;
  Tensor x = data.ode_solution(sch, z1, 1.0, t);
  Tensor dx =
      (data.ode_solution(sch, z1, 1.0, t + e) - data.ode_solution(sch, z1, 1.0, t - e)) / (2 * e);
  const double f = sch.d_log_alpha_dt(t), g2 = sch.dgamma_dt(t) * std::pow(sch.sigma(t), 2);
  Tensor drift = f * x + (0.5 * g2 / sch.sigma(t)) * data.optimal_eps(sch, x, t);
  EXPECT_LT(diffvi::max(diffvi::abs(dx - drift)).item(), 1e-6);
}

}  // namespace
