// DMVI: the auxiliary-variable bound is a bound (below the exact log evidence of a conjugate
// model, at initialisation and after training), and a short fit lands on the exact posterior.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"
#include "vi_test_util.h"

namespace vi = diffvi::vi;
using diffvi::Tensor;

namespace {

constexpr int kD = 5;
constexpr int kN = 100;

// loc ~ N(0, I_5), y_n ~ N(loc, I_5): data, exact log evidence and posterior mean.
struct MeanData {
  Tensor y;  // [N, 5]
  double log_evidence = 0;
  std::vector<double> post_mean;
  double post_sd = 0;
};

MeanData make_mean_data(uint64_t seed) {
  diffvi::Generator gen(seed);
  std::vector<double> loc = diffvi::randn({kD}, gen, diffvi::TensorOptions(diffvi::DType::f64))
                                .to_vector<double>();
  std::vector<double> y = diffvi::randn({kN, kD}, gen, diffvi::TensorOptions(diffvi::DType::f64))
                              .to_vector<double>();
  MeanData m;
  m.post_mean.assign(kD, 0.0);
  for (int j = 0; j < kD; ++j) {
    double s = 0, s2 = 0;
    for (int n = 0; n < kN; ++n) {
      y[n * kD + j] += loc[j];
      s += y[n * kD + j];
      s2 += y[n * kD + j] * y[n * kD + j];
    }
    // y_{1:N} ~ N(0, I + 11ᵀ): det = 1 + N, inverse = I − 11ᵀ/(1 + N).
    m.log_evidence += -0.5 * kN * std::log(2 * M_PI) - 0.5 * std::log(1.0 + kN) -
                      0.5 * (s2 - s * s / (1.0 + kN));
    m.post_mean[j] = s / (1.0 + kN);
  }
  m.post_sd = 1 / std::sqrt(1.0 + kN);
  m.y = diffvi::from_vector(y, {kN, kD}, diffvi::TensorOptions(diffvi::DType::f64));
  return m;
}

vi::Model mean_model(const Tensor& y) {
  return vi::Model([y](vi::Trace& t) {
    Tensor loc = t.sample("loc", vi::Normal(0, 1), {kD});  // [S, 5]
    Tensor data = t.data(y);                                 // [N, 5]
    t.observe("y", vi::Normal(diffvi::unsqueeze(loc, 1), 1.0), data);
  });
}

vi::FitOptions dmvi_options(int64_t steps) {
  vi::FitOptions o;
  o.method = "dmvi";
  o.steps = steps;
  o.lr = 1e-3;
  o.weight_decay = 1e-5;
  o.num_particles = 8;
  o.seed = 3;
  return o;
}

}  // namespace

TEST(Dmvi, RegisteredAndNoDensity) {
  const auto methods = vi::available_methods();
  EXPECT_NE(std::find(methods.begin(), methods.end(), "dmvi"), methods.end());
  diffvi::Generator gen(1);
  vi::DmviGuide g(3, vi::DmviOptions(), gen);
  EXPECT_FALSE(g.has_log_prob());
  EXPECT_THROW(g.log_prob(diffvi::zeros({2, 3})), diffvi::ValueError);
  // The chain reaches noise: α at t_T = 1 is tiny.
  EXPECT_DOUBLE_EQ(g.times().back(), 1.0);
  EXPECT_EQ(g.rsample(7, gen).shape(), (diffvi::Shape{7, 3}));
}

TEST(Dmvi, BoundBelowExactEvidenceAtInitAndAfterFit) {
  const MeanData data = make_mean_data(11);
  vi::Model model = mean_model(data.y);
  const vi::LogDensityFn log_p = [&](const Tensor& z) { return model.log_density(z); };
  vi::ValidationGuard off(false);

  diffvi::Generator gen(5);
  vi::DmviOptions o;
  vi::DmviGuide init(kD, o, gen);
  const vi::BoundEstimate b0 = init.bound(log_p, 2000, gen);
  EXPECT_LT(b0.value, data.log_evidence + 3 * b0.std_error);

  const int64_t steps = vitest::scaled<int64_t>(800, 60);
  vi::Posterior post = vi::fit(model, dmvi_options(steps));
  auto& g = dynamic_cast<vi::DmviGuide&>(*post.guide());
  const vi::BoundEstimate b1 = g.bound(log_p, vitest::scaled<int64_t>(4000, 500), gen);
  std::printf("log p(y) = %.3f  bound at init = %.3f ± %.3f  after %lld steps = %.3f ± %.3f\n",
              data.log_evidence, b0.value, b0.std_error, static_cast<long long>(steps), b1.value,
              b1.std_error);
  EXPECT_LT(b1.value, data.log_evidence + 3 * b1.std_error);
  EXPECT_GT(b1.value, b0.value);
  if (vitest::kSanitized) return;

  // The trained q is near the exact posterior N(Σy/(N+1), 1/(N+1)).
  Tensor draws = post.sample(4000, gen);  // [4000, 5] f64
  std::vector<double> z = draws.to_vector<double>();
  for (int j = 0; j < kD; ++j) {
    double s = 0, s2 = 0;
    for (int i = 0; i < 4000; ++i) {
      s += z[i * kD + j];
      s2 += z[i * kD + j] * z[i * kD + j];
    }
    const double m = s / 4000, sd = std::sqrt(s2 / 4000 - m * m);
    EXPECT_NEAR(m, data.post_mean[j], 0.05) << "coordinate " << j;
    EXPECT_NEAR(sd, data.post_sd, 0.05) << "coordinate " << j;
  }
}

// Gradients through the whole reparameterised chain (every network evaluation, the learnable
// variances and the log r / log q terms) match central differences on a tiny f64 network.
TEST(Dmvi, ChainGradientsMatchFiniteDifferences) {
  vi::DmviOptions o;
  o.hidden = 8;
  o.num_steps = 4;
  o.dropout = 0;
  o.dtype = diffvi::DType::f64;
  diffvi::Generator init(2);
  vi::DmviGuide g(3, o, init);
  // A non-Gaussian log density so the chain's output matters nonlinearly.
  const vi::LogDensityFn log_p = [](const Tensor& z) {
    return diffvi::neg(diffvi::sum(diffvi::add(diffvi::square(z), diffvi::mul(diffvi::square(
                                                                    diffvi::square(z)), 0.1)),
                                   {-1}));
  };
  auto loss_value = [&] {
    diffvi::Generator gen(9);
    return g.loss(log_p, 4, gen);
  };
  g.zero_grad();
  diffvi::backward(loss_value());
  int checked = 0;
  for (auto& [name, p] : g.named_parameters()) {
    const std::vector<double> grad = p.grad().to_vector<double>();
    double* data = p.data<double>();
    for (int64_t i = 0; i < p.numel(); i += std::max<int64_t>(1, p.numel() / 3)) {
      diffvi::NoGradGuard no_grad;
      const double saved = data[i], eps = 1e-6;
      data[i] = saved + eps;
      const double up = loss_value().item();
      data[i] = saved - eps;
      const double down = loss_value().item();
      data[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(grad[i], numeric, 1e-5 + 1e-4 * std::abs(numeric)) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}
