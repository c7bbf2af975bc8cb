// fit() and the method registry: each method's registered defaults, user overrides, options of
// the wrong type or with a bad field, user-registered methods and hand-built guides.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "diffvi/diffvi.h"
#include "diffvi/vi/vi.h"

namespace vi = diffvi::vi;
using diffvi::DType;
using diffvi::Tensor;

namespace {

// One coordinate, z ~ N(1, 0.5²): the exact posterior is known.
vi::Model normal_model() {
  return vi::Model([](vi::Trace& t) { t.sample("z", vi::Normal(1.0, 0.5)); });
}

// The ValueError `f` throws, or a failure.
template <class F>
std::string value_error(F f) {
  try {
    f();
  } catch (const diffvi::ValueError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ValueError";
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST(Registry, DmviResolvesToItsTunedDefaults) {
  // What repro-dmvi ran DMVI with before the defaults moved into the method. Written as a
  // designated initialiser, the form the docs show (GCC 12's -Wextra warns about the members it
  // leaves to their defaults, which is the point here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  const vi::FitSettings s = vi::resolve(vi::FitOptions{.method = "dmvi"});
#pragma GCC diagnostic pop
  EXPECT_EQ(s.steps, 5000);
  EXPECT_DOUBLE_EQ(s.lr, 2e-3);
  EXPECT_EQ(s.num_particles, 48);
  EXPECT_DOUBLE_EQ(s.weight_decay, 1e-5);
  EXPECT_DOUBLE_EQ(s.final_lr_fraction, 0.01);
  EXPECT_DOUBLE_EQ(s.clip_grad_norm, 0);
  EXPECT_FALSE(s.dtype.has_value());  // DmviOptions' dtype decides (f32)
  // The generic defaults stay those of the other methods.
  const vi::FitSettings a = vi::resolve(vi::FitOptions().set_method("advi"));
  EXPECT_EQ(a.steps, 2000);
  EXPECT_DOUBLE_EQ(a.lr, 1e-2);
  EXPECT_EQ(a.num_particles, 16);
}

TEST(Registry, UserSettingsOverrideTheMethodsDefaults) {
  vi::FitOptions o;
  o.set_method("dmvi").set_seed(7).set_batch_size(3).set_lr(1e-3).set_num_particles(5);
  const vi::FitSettings s = vi::resolve(o);
  EXPECT_DOUBLE_EQ(s.lr, 1e-3);
  EXPECT_EQ(s.num_particles, 5);
  EXPECT_EQ(s.steps, 5000);  // unset: still DMVI's
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.batch_size, 3);
}

TEST(Registry, FitRunsDmviWithItsDefaultsAndTheCallersOverrides) {
  vi::Model m = normal_model();
  vi::ValidationGuard off(false);
  vi::DmviOptions dm;
  dm.advi_steps = 5;  // keep the test short; the rest is DmviOptions' defaults
  vi::Posterior post =
      vi::fit(m, vi::FitOptions().set_method("dmvi").set_steps(3).set_method_options(dm));
  EXPECT_EQ(post.method(), "dmvi");
  EXPECT_EQ(post.objective().size(), 3u);
  EXPECT_EQ(post.settings().steps, 3);
  EXPECT_DOUBLE_EQ(post.settings().lr, 2e-3);
  EXPECT_EQ(post.settings().num_particles, 48);
  const auto& g = dynamic_cast<const vi::DmviGuide&>(*post.guide());
  EXPECT_EQ(g.options().hidden, vi::DmviOptions().hidden);
  EXPECT_EQ(g.options().advi_steps, 5);
  EXPECT_EQ(g.dtype(), DType::f32);
  // FitOptions::dtype wins over the method's own.
  vi::Posterior f64 = vi::fit(m, vi::FitOptions()
                                     .set_method("dmvi")
                                     .set_steps(1)
                                     .set_dtype(DType::f64)
                                     .set_method_options(dm));
  EXPECT_EQ(f64.guide()->dtype(), DType::f64);
}

TEST(Registry, WrongOptionsTypeNamesTheMethodAndTheExpectedType) {
  vi::Model m = normal_model();
  const std::string what = value_error([&] {
    vi::fit(m,
            vi::FitOptions().set_method("dmvi").set_steps(1).set_method_options(vi::FlowOptions{}));
  });
  EXPECT_TRUE(contains(what, "'dmvi'")) << what;
  EXPECT_TRUE(contains(what, "DmviOptions")) << what;
  EXPECT_TRUE(contains(what, "FlowOptions")) << what;
}

TEST(Registry, BadOptionFieldsAreNamed) {
  vi::Model m = normal_model();
  vi::DmviOptions dm;
  dm.hidden = 0;
  EXPECT_TRUE(contains(
      value_error([&] { vi::fit(m, vi::FitOptions().set_method("dmvi").set_method_options(dm)); }),
      "DmviOptions.hidden"));
  vi::FlowOptions flow;
  flow.num_layers = 0;
  EXPECT_TRUE(contains(
      value_error([&] { vi::fit(m, vi::FitOptions().set_method("maf").set_method_options(flow)); }),
      "FlowOptions.num_layers"));
  vi::NutsOptions nuts;
  nuts.target_accept = 1.5;
  EXPECT_TRUE(contains(value_error([&] {
                         vi::fit(m, vi::FitOptions().set_method("nuts").set_method_options(nuts));
                       }),
                       "NutsOptions.target_accept"));
  EXPECT_TRUE(contains(value_error([&] {
                         vi::fit(m, vi::FitOptions().set_method("advi").set_method_options(
                                        vi::AdviOptions{.init_scale = -1}));
                       }),
                       "AdviOptions.init_scale"));
}

TEST(Registry, EveryBuiltinMethodIsListed) {
  const auto methods = vi::available_methods();
  for (const char* name : {"advi", "advi-fullrank", "dmvi", "iaf", "maf", "nuts", "realnvp"}) {
    EXPECT_NE(std::find(methods.begin(), methods.end(), name), methods.end()) << name;
  }
}

TEST(Registry, AnEmptyMethodRunsTheDefaultOne) {
  EXPECT_EQ(vi::default_method(), "nuts");  // FitOptions{} samples, as before the registry
  vi::Model m = normal_model();
  vi::NutsOptions nuts;
  nuts.num_chains = 1;
  nuts.num_warmup = 20;
  nuts.num_samples = 10;
  vi::Posterior p = vi::fit(m, vi::FitOptions().set_method_options(nuts));
  EXPECT_EQ(p.method(), "nuts");
  ASSERT_NE(p.sampler_result<vi::NutsResult>(), nullptr);
}

TEST(Registry, UserMethodRegistersWithItsOwnDefaults) {
  vi::FitSettings defaults;
  defaults.steps = 7;
  defaults.lr = 0.05;
  int built = 0;
  vi::register_method(
      "test-wide-advi",
      [&built](int64_t d, const vi::FitSettings& s, diffvi::Generator&) {
        ++built;
        EXPECT_DOUBLE_EQ(s.lr, 0.05);
        return std::make_shared<vi::MeanFieldNormal>(d, 1.0, s.dtype.value_or(DType::f64));
      },
      defaults);
  const auto methods = vi::available_methods();
  EXPECT_NE(std::find(methods.begin(), methods.end(), "test-wide-advi"), methods.end());
  vi::Model m = normal_model();
  vi::Posterior post = vi::fit(m, vi::FitOptions().set_method("test-wide-advi"));
  EXPECT_EQ(built, 1);
  EXPECT_EQ(post.objective().size(), 7u);
  EXPECT_EQ(post.method(), "test-wide-advi");
  // A registration needs exactly one of a guide builder and a sampler.
  EXPECT_THROW(vi::register_method("test-empty", vi::MethodSpec{}), diffvi::ValueError);
}

TEST(Fit, HandBuiltGuideIsTrainedInPlace) {
  vi::Model m = normal_model();
  auto guide = std::make_shared<vi::MeanFieldNormal>(1, 0.1, DType::f64);
  vi::FitOptions o;
  o.set_steps(1500).set_lr(0.03).set_num_particles(32).set_seed(2);
  vi::Posterior post = vi::fit(m, guide, o);
  EXPECT_EQ(post.guide().get(), guide.get());
  EXPECT_EQ(post.method(), "MeanFieldNormal");
  EXPECT_EQ(post.objective().size(), 1500u);
  EXPECT_NEAR(guide->loc.to_vector<double>()[0], 1.0, 0.05);
  EXPECT_NEAR(guide->scale().to_vector<double>()[0], 0.5, 0.05);
  // The guide must live on the model's space.
  const std::string what = value_error(
      [&] { vi::fit(m, std::make_shared<vi::MeanFieldNormal>(2), vi::FitOptions().set_steps(1)); });
  EXPECT_TRUE(contains(what, "R^2")) << what;
}

TEST(Fit, SamplersAndGuidesReportTheirOwnResults) {
  vi::Model m = normal_model();
  vi::NutsOptions nuts;
  nuts.num_chains = 2;
  nuts.num_warmup = 50;
  nuts.num_samples = 20;
  vi::Posterior p = vi::fit(m, vi::FitOptions().set_method("nuts").set_method_options(nuts));
  ASSERT_NE(p.sampler_result<vi::NutsResult>(), nullptr);
  EXPECT_EQ(p.sampler_result<vi::NutsResult>()->num_samples, 20);
  EXPECT_EQ(p.guide(), nullptr);
  EXPECT_EQ(p.draws().size(0), 40);
  vi::Posterior q = vi::fit(m, vi::FitOptions().set_method("advi").set_steps(2));
  EXPECT_EQ(q.sampler_result<vi::NutsResult>(), nullptr);
  EXPECT_THROW(q.draws(), diffvi::ValueError);
}

// The loop clips through nn::clip_grad_norm_: a bound above every gradient's norm leaves the run
// bit for bit as unclipped, a tiny one changes it.
TEST(Fit, ClippingOnlyActsAboveTheBound) {
  vi::Model m = normal_model();
  auto run = [&](double clip) {
    vi::FitOptions o;
    o.set_method("advi").set_steps(20).set_seed(1).set_clip_grad_norm(clip);
    return vi::fit(m, o).objective().back();
  };
  const double none = run(0), huge = run(1e9), tiny = run(1e-6);
  EXPECT_EQ(none, huge);
  EXPECT_NE(none, tiny);
}
