// Layers: forward against hand computations on the host, backward by f64 gradcheck of the module
// (converted to f64) with respect to its input and parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "nn_test_util.h"

namespace nn = diffvi::nn;
using diffvi::Activation;
using diffvi::DType;
using diffvi::Tensor;
using nntest::ModuleGradcheck;
using nntest::Values;
using testutil::AllClose;

namespace {

double Gelu(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

TEST(Linear, ForwardMatchesHandComputationAndDefaultInit) {
  diffvi::Generator gen(1);
  nn::Linear lin(3, 2, nn::LinearOptions().set_activation(Activation::gelu_erf), gen);
  // PyTorch's default: every weight and bias within ±1/sqrt(in).
  for (double v : Values(lin.weight)) EXPECT_LE(std::abs(v), 1 / std::sqrt(3.0));
  for (double v : Values(lin.bias)) EXPECT_LE(std::abs(v), 1 / std::sqrt(3.0));
  const Tensor x = testutil::Uniform({4, 3}, 2);
  const std::vector<double> xv = Values(x), w = Values(lin.weight), b = Values(lin.bias);
  std::vector<double> expected;
  for (int i = 0; i < 4; ++i) {
    for (int o = 0; o < 2; ++o) {
      double acc = b[o];
      for (int k = 0; k < 3; ++k) acc += xv[i * 3 + k] * w[o * 3 + k];
      expected.push_back(Gelu(acc));
    }
  }
  EXPECT_TRUE(AllClose(lin(x), diffvi::from_vector(expected, {4, 2}), 1e-5, 1e-6));
  EXPECT_EQ(lin(testutil::Uniform({2, 5, 3}, 3)).shape(), (diffvi::Shape{2, 5, 2}));
}

TEST(Linear, SameSeedSameInit) {
  diffvi::Generator g1(42), g2(42);
  nn::Linear a(5, 4, nn::LinearOptions(), g1), b(5, 4, nn::LinearOptions(), g2);
  EXPECT_TRUE(testutil::Equal(a.weight, b.weight));
  EXPECT_TRUE(testutil::Equal(a.bias, b.bias));
}

TEST(Linear, Gradcheck) {
  for (Activation act : {Activation::none, Activation::tanh, Activation::silu}) {
    diffvi::Generator gen(3);
    nn::Linear lin(3, 2, nn::LinearOptions().set_activation(act), gen);
    lin.to(DType::f64);
    EXPECT_TRUE(ModuleGradcheck(lin, testutil::Uniform({4, 3}, 4, DType::f64)));
  }
}

TEST(LayerNorm, ForwardMatchesHandComputationAndGradcheck) {
  nn::LayerNorm ln({4});
  diffvi::Generator gen(5);
  nn::init::uniform_(ln.weight, 0.5, 1.5, gen);
  nn::init::uniform_(ln.bias, -0.5, 0.5, gen);
  const Tensor x = testutil::Uniform({3, 4}, 6);
  const std::vector<double> xv = Values(x), w = Values(ln.weight), b = Values(ln.bias);
  std::vector<double> expected;
  for (int r = 0; r < 3; ++r) {
    double mean = 0, var = 0;
    for (int c = 0; c < 4; ++c) mean += xv[r * 4 + c] / 4;
    for (int c = 0; c < 4; ++c) var += std::pow(xv[r * 4 + c] - mean, 2) / 4;
    for (int c = 0; c < 4; ++c) {
      expected.push_back((xv[r * 4 + c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c]);
    }
  }
  EXPECT_TRUE(AllClose(ln(x), diffvi::from_vector(expected, {3, 4}), 1e-5, 1e-5));
  ln.to(DType::f64);
  EXPECT_TRUE(ModuleGradcheck(ln, testutil::Uniform({3, 4}, 7, DType::f64)));
}

TEST(GroupNorm, ForwardMatchesHandComputationAndGradcheck) {
  const int N = 2, C = 4, G = 2, HW = 3;
  nn::GroupNorm gn(G, C);
  diffvi::Generator gen(8);
  nn::init::uniform_(gn.weight, 0.5, 1.5, gen);
  nn::init::uniform_(gn.bias, -0.5, 0.5, gen);
  const Tensor x = testutil::Uniform({N, C, HW}, 9);
  const std::vector<double> xv = Values(x), w = Values(gn.weight), b = Values(gn.bias);
  std::vector<double> expected(xv.size());
  const int per = C / G * HW;
  for (int n = 0; n < N; ++n) {
    for (int g = 0; g < G; ++g) {
      const int base = n * C * HW + g * per;
      double mean = 0, var = 0;
      for (int i = 0; i < per; ++i) mean += xv[base + i] / per;
      for (int i = 0; i < per; ++i) var += std::pow(xv[base + i] - mean, 2) / per;
      for (int i = 0; i < per; ++i) {
        const int c = g * (C / G) + i / HW;
        expected[base + i] = (xv[base + i] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c];
      }
    }
  }
  EXPECT_TRUE(AllClose(gn(x), diffvi::from_vector(expected, {N, C, HW}), 1e-5, 1e-5));
  EXPECT_THROW(gn(diffvi::zeros({2, 3, 3})), diffvi::ShapeError);
  EXPECT_THROW(nn::GroupNorm(3, 4), diffvi::ValueError);
  gn.to(DType::f64);
  EXPECT_TRUE(ModuleGradcheck(gn, testutil::Uniform({N, C, 2, 2}, 10, DType::f64)));
}

TEST(Dropout, TrainMasksAndScalesEvalIsIdentity) {
  diffvi::Generator gen(11);
  nn::Dropout drop(0.25, gen);
  const Tensor x = diffvi::full({4000}, 2.0);
  const std::vector<double> y = Values(drop(x));
  int zeros = 0;
  for (double v : y) {
    if (v == 0) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(v, 2.0 / 0.75);
    }
  }
  EXPECT_NEAR(zeros / 4000.0, 0.25, 0.03);
  // The mask is reproducible from the generator's seed, and moves the generator on.
  diffvi::Generator again(11);
  nn::Dropout drop2(0.25, again);
  EXPECT_EQ(Values(drop2(x)), y);
  EXPECT_NE(Values(drop2(x)), y);
  drop.eval();
  EXPECT_TRUE(drop(x).is_same(x));
  EXPECT_THROW(nn::Dropout(1.0), diffvi::ValueError);
  // Backward: the gradient is the mask.
  drop.train();
  Tensor leaf = testutil::Leaf(diffvi::ones({100}));
  const Tensor out = drop(leaf);
  diffvi::backward(diffvi::sum(out));
  EXPECT_TRUE(testutil::Equal(leaf.grad(), out));
}

TEST(Activations, ForwardAndGradcheck) {
  const Tensor x = testutil::AwayFromZero({3, 4}, 12, DType::f64, 0.1, 2.5);
  struct Case {
    nn::ModulePtr m;
    std::function<double(double)> f;
  };
  const std::vector<Case> cases = {
      {std::make_shared<nn::GELU>(), Gelu},
      {std::make_shared<nn::GELU>(diffvi::GeluApprox::tanh),
       [](double v) {
         return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
       }},
      {std::make_shared<nn::SiLU>(), [](double v) { return v / (1 + std::exp(-v)); }},
      {std::make_shared<nn::ReLU>(), [](double v) { return v > 0 ? v : 0; }},
      {std::make_shared<nn::Tanh>(), [](double v) { return std::tanh(v); }},
      {std::make_shared<nn::Softplus>(), [](double v) { return std::log1p(std::exp(v)); }},
      {std::make_shared<nn::Softplus>(2.0, 3.0),
       [](double v) { return 2 * v > 3 ? v : std::log1p(std::exp(2 * v)) / 2; }},
  };
  for (const Case& c : cases) {
    std::vector<double> expected = Values(x);
    for (double& v : expected) v = c.f(v);
    EXPECT_TRUE(
        AllClose((*c.m)(x), diffvi::from_vector(expected, {3, 4}, DType::f64), 1e-10, 1e-12))
        << c.m->str();
    EXPECT_TRUE(ModuleGradcheck(*c.m, x)) << c.m->str();
  }
}

TEST(Sequential, ChainsAndIndexes) {
  diffvi::Generator gen(13);
  auto first = std::make_shared<nn::Linear>(3, 4, nn::LinearOptions(), gen);
  nn::Sequential seq({first, std::make_shared<nn::Tanh>()});
  auto last = seq.push_back(std::make_shared<nn::Linear>(4, 2, nn::LinearOptions(), gen));
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[0], first);
  EXPECT_THROW(seq[3], diffvi::IndexError);
  const Tensor x = testutil::Uniform({5, 3}, 14);
  EXPECT_TRUE(testutil::Equal(seq(x), (*last)(diffvi::tanh((*first)(x)))));
  EXPECT_EQ(seq.named_parameters()[2].first, "2.weight");  // torch.nn.Sequential's names
  seq.to(DType::f64);
  EXPECT_TRUE(ModuleGradcheck(seq, testutil::Uniform({2, 3}, 15, DType::f64)));
}

TEST(MLP, StructureForwardAndGradcheck) {
  diffvi::Generator gen(16);
  nn::MLP mlp(nn::MLPOptions({3, 4, 4, 2})
                  .set_activation(Activation::silu)
                  .set_norm(nn::NormKind::layer_norm)
                  .set_residual(true),
              gen);
  ASSERT_EQ(mlp.layers->size(), 3u);
  auto block = [&](size_t i) { return std::static_pointer_cast<nn::MLPBlock>((*mlp.layers)[i]); };
  EXPECT_TRUE(block(0)->norm && block(1)->norm && !block(2)->norm);
  EXPECT_FALSE(block(2)->act);
  // Hand composition of the same layers: block 1 is residual (4 -> 4), the others are not.
  const Tensor x = testutil::Uniform({5, 3}, 17);
  auto hidden = [&](size_t i, const Tensor& h) {
    return diffvi::silu((*block(i)->norm)((*block(i)->linear)(h)));
  };
  const Tensor h0 = hidden(0, x);
  const Tensor h1 = diffvi::add(h0, hidden(1, h0));
  EXPECT_TRUE(AllClose(mlp(x), (*block(2)->linear)(h1), 1e-6, 1e-6));
  // Without a norm the activation is fused into the Linear.
  diffvi::Generator g2(18);
  nn::MLP plain(nn::MLPOptions({3, 4, 2}).set_activation(Activation::tanh), g2);
  auto b0 = std::static_pointer_cast<nn::MLPBlock>((*plain.layers)[0]);
  EXPECT_EQ(b0->linear->activation(), Activation::tanh);
  EXPECT_FALSE(b0->act);
  EXPECT_THROW(nn::MLP(nn::MLPOptions({3})), diffvi::ValueError);
  mlp.to(DType::f64);
  EXPECT_TRUE(ModuleGradcheck(mlp, testutil::Uniform({2, 3}, 19, DType::f64)));
}

TEST(SinusoidalTimeEmbedding, MatchesFormulaAndGradcheck) {
  nn::SinusoidalTimeEmbedding emb(7, 100.0);
  const Tensor t = diffvi::tensor({0.0, 0.5, 3.0}, DType::f64);
  const Tensor y = emb(t);
  ASSERT_EQ(y.shape(), (diffvi::Shape{3, 7}));
  const std::vector<double> v = Values(y);
  const double tv[] = {0.0, 0.5, 3.0};
  for (int b = 0; b < 3; ++b) {
    for (int k = 0; k < 3; ++k) {
      const double f = std::exp(-std::log(100.0) * k / 3.0);
      EXPECT_NEAR(v[b * 7 + k], std::cos(tv[b] * f), 1e-12);
      EXPECT_NEAR(v[b * 7 + 3 + k], std::sin(tv[b] * f), 1e-12);
    }
    EXPECT_EQ(v[b * 7 + 6], 0.0);  // odd dim: zero padding
  }
  EXPECT_EQ(emb(diffvi::zeros({4, 1})).shape(), (diffvi::Shape{4, 7}));
  EXPECT_THROW(emb(diffvi::zeros({2, 2})), diffvi::ShapeError);
  EXPECT_TRUE(ModuleGradcheck(emb, diffvi::tensor({0.1, 0.7}, DType::f64)));
}

TEST(FourierFeatures, MatchesFormulaAndGradcheck) {
  diffvi::Generator gen(20);
  nn::FourierFeatures ff(2, 3, 0.5, gen);
  EXPECT_TRUE(ff.parameters().empty());
  EXPECT_EQ(ff.named_buffers()[0].first, "weight");
  const Tensor x = testutil::Uniform({4, 2}, 21);
  const std::vector<double> xv = Values(x), w = Values(ff.weight), y = Values(ff(x));
  ASSERT_EQ(y.size(), 4u * 6u);
  for (int i = 0; i < 4; ++i) {
    for (int f = 0; f < 3; ++f) {
      const double a = 2 * M_PI * (xv[i * 2] * w[f * 2] + xv[i * 2 + 1] * w[f * 2 + 1]);
      EXPECT_NEAR(y[i * 6 + f], std::cos(a), 1e-5);
      EXPECT_NEAR(y[i * 6 + 3 + f], std::sin(a), 1e-5);
    }
  }
  diffvi::Generator g2(22);
  nn::FourierFeatures learn(2, 3, 1.0, g2, /*learnable=*/true);
  EXPECT_EQ(learn.parameters().size(), 1u);
  learn.to(DType::f64);
  EXPECT_TRUE(ModuleGradcheck(learn, testutil::Uniform({3, 2}, 23, DType::f64)));
}

}  // namespace
