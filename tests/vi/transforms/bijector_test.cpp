// Bijectors: round trips, log|det J| against a numerical derivative, automatic choice by support.
#include <gtest/gtest.h>

#include <cmath>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

void check_bijector(const vi::Bijector& b, double lo, double hi) {
  const std::vector<double> xs{-6.0, -2.5, -0.3, 0.0, 0.7, 2.0, 5.5};
  Tensor x = diffvi::from_vector(xs, {7}, DType::f64);
  Tensor y = b.forward(x);
  std::vector<double> yv = y.to_vector<double>();
  std::vector<double> back = b.inverse(y).to_vector<double>();
  std::vector<double> ld = b.log_abs_det_jacobian(x).to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_GT(yv[i], lo) << b.name();
    EXPECT_LT(yv[i], hi) << b.name();
    EXPECT_NEAR(back[i], xs[i], 1e-8 * (1 + std::abs(xs[i]))) << b.name() << " at " << xs[i];
    const double h = 1e-6;
    const double fp = b.forward(diffvi::scalar_tensor(xs[i] + h, DType::f64)).item();
    const double fm = b.forward(diffvi::scalar_tensor(xs[i] - h, DType::f64)).item();
    EXPECT_NEAR(ld[i], std::log(std::abs((fp - fm) / (2 * h))), 1e-6)
        << b.name() << " at " << xs[i];
  }
}

}  // namespace

TEST(Bijectors, RoundTripsAndJacobians) {
  check_bijector(vi::ExpBijector(), 0, INFINITY);
  check_bijector(vi::SoftplusBijector(), 0, INFINITY);
  check_bijector(vi::SigmoidBijector(), 0, 1);
  check_bijector(vi::AffineBijector(1.5, -3.0), -INFINITY, INFINITY);
  check_bijector(*vi::biject_to(vi::Support::interval(-2.0, 5.0)), -2.0, 5.0);
  check_bijector(vi::ChainBijector({std::make_shared<vi::ExpBijector>(),
                                    std::make_shared<vi::AffineBijector>(1.0, 2.0)}),
                 1.0, INFINITY);
}

TEST(Bijectors, ChoiceBySupport) {
  EXPECT_TRUE(vi::biject_to(vi::Support::real())->is_identity());
  EXPECT_EQ(vi::biject_to(vi::Support::positive())->name(), "Exp");
  EXPECT_EQ(vi::biject_to(vi::Support::unit_interval())->name(), "Sigmoid");
  EXPECT_EQ(vi::biject_to(vi::Support::interval(0, 2))->name(), "Chain(Sigmoid, Affine)");
  EXPECT_THROW(vi::biject_to(vi::Support::integer()), diffvi::ValueError);
  EXPECT_THROW(vi::AffineBijector(0.0, 0.0), diffvi::ValueError);
}

TEST(Bijectors, JacobianGradients) {
  for (const auto& b : {vi::biject_to(vi::Support::interval(-1, 3)),
                        vi::BijectorPtr(std::make_shared<vi::SoftplusBijector>())}) {
    auto res = diffvi::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return diffvi::add(b->forward(in[0]), b->log_abs_det_jacobian(in[0]));
        },
        {diffvi::tensor({-1.2, 0.1, 2.2}, DType::f64).set_requires_grad(true)});
    EXPECT_TRUE(res.ok) << b->name() << ": " << res.message;
  }
}
