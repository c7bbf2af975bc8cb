// nn::Module: registration, dotted names, the printed tree, train/eval, conversion, zero_grad,
// state_dict round trips and load errors, and errors that name the module path.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nn_test_util.h"

namespace nn = diffvi::nn;
using diffvi::DType;
using diffvi::Tensor;

namespace {

// A two-level network: Net { encoder: MLP, scale (parameter), count (buffer), head: Linear }.
class Net : public nn::Module {
 public:
  explicit Net(diffvi::Generator& gen) : Module("Net") {
    encoder = register_module(
        "encoder", std::make_shared<nn::MLP>(
                       nn::MLPOptions({3, 5, 4}).set_norm(nn::NormKind::layer_norm), gen));
    scale = register_parameter("scale", diffvi::ones({4}));
    count = register_buffer("count", diffvi::zeros({1}));
    head = register_module("head", std::make_shared<nn::Linear>(4, 2, nn::LinearOptions(), gen));
  }
  Tensor forward(const Tensor& x) override { return (*head)(diffvi::mul((*encoder)(x), scale)); }
  std::shared_ptr<nn::MLP> encoder;
  std::shared_ptr<nn::Linear> head;
  Tensor scale, count;
};

std::vector<std::string> Names(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::vector<std::string> out;
  for (const auto& entry : named) out.push_back(entry.first);
  return out;
}

TEST(Module, DottedNamesInRegistrationOrder) {
  diffvi::Generator gen(1);
  Net net(gen);
  // As PyTorch: a module's own parameters, then each child's, depth first.
  const std::vector<std::string> expected = {"scale",
                                             "encoder.layers.0.linear.weight",
                                             "encoder.layers.0.linear.bias",
                                             "encoder.layers.0.norm.weight",
                                             "encoder.layers.0.norm.bias",
                                             "encoder.layers.1.linear.weight",
                                             "encoder.layers.1.linear.bias",
                                             "head.weight",
                                             "head.bias"};
  EXPECT_EQ(Names(net.named_parameters()), expected);
  EXPECT_EQ(net.parameters().size(), expected.size());
  EXPECT_EQ(Names(net.named_buffers()), std::vector<std::string>{"count"});
  EXPECT_EQ(Names(net.named_parameters(false)), std::vector<std::string>{"scale"});
  EXPECT_EQ(net.num_parameters(), 3 * 5 + 5 + 5 + 5 + 5 * 4 + 4 + 4 + 4 * 2 + 2);

  std::vector<std::string> modules;
  for (const auto& [name, m] : net.named_modules()) modules.push_back(name + ":" + m->type_name());
  const std::vector<std::string> expected_modules = {":Net",
                                                     "encoder:MLP",
                                                     "encoder.layers:Sequential",
                                                     "encoder.layers.0:MLPBlock",
                                                     "encoder.layers.0.linear:Linear",
                                                     "encoder.layers.0.norm:LayerNorm",
                                                     "encoder.layers.0.act:ReLU",
                                                     "encoder.layers.1:MLPBlock",
                                                     "encoder.layers.1.linear:Linear",
                                                     "head:Linear"};
  EXPECT_EQ(modules, expected_modules);
  ASSERT_EQ(net.children().size(), 2u);
  EXPECT_EQ(net.named_children()[1].first, "head");
  // Paths are set on registration, re-prefixed when the parent is registered or named.
  EXPECT_EQ(net.encoder->layers->path(), "encoder.layers");
  net.set_name("net");
  EXPECT_EQ((*net.encoder->layers)[1]->path(), "net.encoder.layers.1");
}

TEST(Module, PrintedTree) {
  diffvi::Generator gen(1);
  nn::Sequential seq(
      {std::make_shared<nn::Linear>(
           2, 3, nn::LinearOptions().set_activation(diffvi::Activation::relu), gen),
       std::make_shared<nn::Dropout>(0.25, gen),
       std::make_shared<nn::Linear>(3, 1, nn::LinearOptions().set_bias(false), gen)});
  const std::string expected =
      "Sequential(\n"
      "  (0): Linear(in_features=2, out_features=3, bias=true, activation=relu)\n"
      "  (1): Dropout(p=0.25)\n"
      "  (2): Linear(in_features=3, out_features=1, bias=false)\n"
      ")";
  EXPECT_EQ(seq.str(), expected);
  std::ostringstream os;
  os << seq;
  EXPECT_EQ(os.str(), expected);
  diffvi::Generator g2(2);
  nn::MLP mlp(nn::MLPOptions({2, 4, 4, 1}).set_residual(true), g2);
  EXPECT_NE(mlp.str().find("    (1): MLPBlock(\n      residual=true\n      (linear): Linear("),
            std::string::npos)
      << mlp.str();
}

TEST(Module, ErrorsNameTheModulePath) {
  diffvi::Generator gen(1);
  auto net = std::make_shared<Net>(gen);
  net->set_name("net");
  try {
    (*net)(diffvi::zeros({6, 7}));  // the encoder expects 3 features
    FAIL() << "expected a ShapeError";
  } catch (const diffvi::ShapeError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("net.encoder.layers.0.linear: linear", 0), 0u) << what;
  }
  // A submodule called on its own names its full path once.
  try {
    (*net->head)(diffvi::zeros({6, 3}));
    FAIL() << "expected a ShapeError";
  } catch (const diffvi::ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("net.head: linear", 0), 0u) << e.what();
  }
  // An unnamed root gives paths relative to it; outside any call there is no prefix.
  nn::Sequential seq({std::make_shared<nn::Linear>(3, 3, nn::LinearOptions(), gen),
                      std::make_shared<nn::Linear>(2, 3, nn::LinearOptions(), gen)});
  try {
    seq(diffvi::zeros({1, 3}));
    FAIL() << "expected a ShapeError";
  } catch (const diffvi::ShapeError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("1: linear", 0), 0u) << e.what();
  }
  EXPECT_EQ(diffvi::ErrorContext::current(), "");
  nn::Module bare;
  EXPECT_THROW(bare(diffvi::zeros({1})), diffvi::ValueError);
}

TEST(Module, RegistrationRejectsBadNames) {
  nn::Module m;
  m.register_parameter("w", diffvi::zeros({2}));
  EXPECT_THROW(m.register_parameter("w", diffvi::zeros({2})), diffvi::ValueError);
  EXPECT_THROW(m.register_buffer("w", diffvi::zeros({2})), diffvi::ValueError);
  EXPECT_THROW(m.register_parameter("a.b", diffvi::zeros({2})), diffvi::ValueError);
  EXPECT_THROW(m.register_parameter("", diffvi::zeros({2})), diffvi::ValueError);
  EXPECT_THROW(m.register_module("c", nn::ModulePtr()), diffvi::ValueError);
  EXPECT_TRUE(m.parameters()[0].requires_grad());
}

TEST(Module, TrainEvalRecursesAndDropoutObeysIt) {
  diffvi::Generator gen(3);
  nn::MLP mlp(nn::MLPOptions({4, 8, 2}).set_dropout(0.5), gen);
  EXPECT_TRUE(mlp.is_training());
  mlp.eval();
  for (const auto& [name, m] : mlp.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  const Tensor x = testutil::Uniform({3, 4}, 5);
  EXPECT_TRUE(testutil::Equal(mlp(x), mlp(x)));  // eval: deterministic
  mlp.train();
  for (const auto& [name, m] : mlp.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(Module, ToDTypeConvertsInPlaceKeepingHandlesAndGrads) {
  diffvi::Generator gen(4);
  nn::Linear lin(3, 2, nn::LinearOptions(), gen);
  const Tensor w = lin.weight;  // a handle held elsewhere (as an optimizer would)
  const std::vector<double> before = w.to_vector<double>();
  diffvi::backward(diffvi::sum(lin(testutil::Uniform({4, 3}, 1))));
  ASSERT_TRUE(lin.weight.grad().defined());
  lin.to(DType::f64);
  EXPECT_EQ(w.dtype(), DType::f64);
  EXPECT_EQ(lin.bias.dtype(), DType::f64);
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(w.grad().dtype(), DType::f64);
  EXPECT_EQ(w.to_vector<double>(), before);  // f32 -> f64 is exact
  EXPECT_EQ(lin(testutil::Uniform({4, 3}, 1, DType::f64)).dtype(), DType::f64);
  lin.to(diffvi::Device::cpu());  // a no-op on the same device
  EXPECT_EQ(w.dtype(), DType::f64);
}

TEST(Module, ZeroGrad) {
  diffvi::Generator gen(5);
  nn::Linear lin(3, 2, nn::LinearOptions(), gen);
  diffvi::backward(diffvi::sum(lin(testutil::Uniform({4, 3}, 1))));
  lin.zero_grad(false);
  EXPECT_TRUE(testutil::Equal(lin.weight.grad(), diffvi::zeros({2, 3})));
  lin.zero_grad();
  EXPECT_FALSE(lin.weight.grad().defined());
  EXPECT_FALSE(lin.bias.grad().defined());
}

TEST(Module, StateDictRoundTrip) {
  diffvi::Generator g1(10), g2(20);
  Net a(g1), b(g2);
  diffvi::raw::fill_(a.count, 7.0);
  const nn::TensorDict state = a.state_dict();
  std::vector<std::string> names;
  for (const auto& entry : state) names.push_back(entry.first);
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], "scale");
  EXPECT_EQ(names[1], "count");  // a module's buffers follow its parameters, before children
  EXPECT_EQ(names[8], "head.weight");
  const Tensor x = testutil::Uniform({2, 3}, 9);
  EXPECT_FALSE(testutil::Equal(a(x), b(x)));
  const Tensor bw = b.head->weight;
  b.load_state_dict(state);
  EXPECT_TRUE(testutil::Equal(a(x), b(x)));
  EXPECT_TRUE(testutil::Equal(b.count, a.count));
  EXPECT_TRUE(bw.is_same(b.head->weight));  // loaded in place
  EXPECT_FALSE(b.head->weight.is_same(a.head->weight));
}

TEST(Module, LoadStateDictReportsKeysByName) {
  diffvi::Generator g1(10), g2(20);
  Net a(g1), b(g2);
  nn::TensorDict state = a.state_dict();
  const Tensor before = diffvi::raw::clone(b.head->weight);

  nn::TensorDict bad = state;
  bad.erase(bad.begin());  // drop "scale"
  bad.emplace_back("extra.weight", diffvi::zeros({1}));
  try {
    b.load_state_dict(bad);
    FAIL() << "expected a ValueError";
  } catch (const diffvi::ValueError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("missing keys: scale"), std::string::npos) << what;
    EXPECT_NE(what.find("unexpected keys: extra.weight"), std::string::npos) << what;
  }
  const nn::LoadReport report = b.load_state_dict(bad, /*strict=*/false);
  EXPECT_EQ(report.missing, std::vector<std::string>{"scale"});
  EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});

  nn::TensorDict misshaped = a.state_dict();
  misshaped[1].second = diffvi::zeros({2, 4});  // count is [1]
  misshaped[8].second = diffvi::zeros({3, 4});  // head.weight is [2, 4]
  diffvi::raw::fill_(b.head->weight, 0.5);
  const Tensor w_before = diffvi::raw::clone(b.head->weight);
  try {
    b.load_state_dict(misshaped);
    FAIL() << "expected a ShapeError";
  } catch (const diffvi::ShapeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("head.weight (expected [2, 4], got [3, 4])"), std::string::npos) << what;
    EXPECT_NE(what.find("count (expected [1], got [2, 4])"), std::string::npos) << what;
  }
  EXPECT_TRUE(testutil::Equal(b.head->weight, w_before));  // nothing was copied
}

}  // namespace
