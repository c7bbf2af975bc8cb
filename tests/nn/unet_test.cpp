// Pooling/upsampling (forward by hand, gradcheck) and the U-Net (shapes, names, time
// conditioning, gradcheck of a tiny configuration with respect to its input and a sample of
// parameters from every part of the network).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nn_test_util.h"

namespace nn = diffvi::nn;
using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using nntest::Values;
using testutil::AllClose;

namespace {

TEST(Pooling, AvgPoolAndUpsampleByHand) {
  const Tensor x = diffvi::arange(16, diffvi::TensorOptions(DType::f64));
  const Tensor img = diffvi::reshape(x, {1, 1, 4, 4});
  const Tensor pooled = diffvi::avg_pool2d(img, 2);
  EXPECT_EQ(pooled.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(Values(pooled), (std::vector<double>{2.5, 4.5, 10.5, 12.5}));
  const Tensor up = diffvi::upsample_nearest2d(diffvi::reshape(diffvi::arange(4), {1, 1, 2, 2}), 2);
  EXPECT_EQ(Values(up), (std::vector<double>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3}));
  EXPECT_THROW(diffvi::avg_pool2d(diffvi::zeros({1, 1, 5, 4}), 2), diffvi::ShapeError);
  EXPECT_THROW(diffvi::upsample_nearest2d(diffvi::zeros({4, 4}), 2), diffvi::ShapeError);
}

TEST(Pooling, Gradcheck) {
  std::vector<Tensor> in = {testutil::Leaf(testutil::Uniform({2, 3, 4, 6}, 1, DType::f64))};
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return diffvi::avg_pool2d(v[0], 2); }, in);
  EXPECT_GRADCHECK([](const std::vector<Tensor>& v) { return diffvi::upsample_nearest2d(v[0], 3); },
                   in);
}

nn::UNetOptions Tiny() {
  return nn::UNetOptions()
      .set_base_channels(4)
      .set_channel_mults({1, 2})
      .set_norm_groups(2)
      .set_time_embed_dim(8);
}

TEST(UNet, DefaultConfigShapesAndNames) {
  diffvi::Generator gen(1);
  nn::UNet net(nn::UNetOptions(), gen);
  diffvi::NoGradGuard no_grad;
  const Tensor x = testutil::Uniform({2, 1, 28, 28}, 2);
  const Tensor y = net(x, diffvi::tensor({10.0, 500.0}));
  EXPECT_EQ(y.shape(), (Shape{2, 1, 28, 28}));
  std::set<std::string> names;
  for (const auto& [name, t] : net.named_parameters()) names.insert(name);
  for (const char* expected :
       {"time_mlp.0.weight", "conv_in.weight", "down.0.0.conv1.weight", "down.1.0.skip.weight",
        "mid.1.norm2.bias", "up.0.0.time_proj.weight", "norm_out.weight", "conv_out.bias"}) {
    EXPECT_TRUE(names.count(expected)) << expected << " missing from\n" << net.str();
  }
  EXPECT_GT(net.num_parameters(), 100000);
}

TEST(UNet, TimeConditionsTheOutputAndBadInputsAreNamed) {
  diffvi::Generator gen(2);
  nn::UNet net(Tiny(), gen);
  net.set_name("unet");
  diffvi::NoGradGuard no_grad;
  const Tensor x = testutil::Uniform({1, 1, 8, 8}, 3);
  const Tensor a = net(x, diffvi::scalar_tensor(1.0)), b = net(x, diffvi::scalar_tensor(2.0));
  EXPECT_FALSE(AllClose(a, b, 0, 1e-6));
  try {
    net(testutil::Uniform({1, 1, 7, 8}, 3), diffvi::scalar_tensor(1.0));
    FAIL() << "expected ShapeError";
  } catch (const diffvi::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("unet"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nn::UNet(Tiny().set_norm_groups(3)), diffvi::ValueError);
}

TEST(UNet, GradcheckTinyConfig) {
  diffvi::Generator gen(4);
  nn::UNet net(Tiny(), gen);
  net.to(DType::f64);
  // A full gradcheck costs two forwards per parameter element; check a sample that covers the
  // time MLP, both convs and the skip of a block, a norm, the up path and the output.
  const std::set<std::string> checked = {
      "time_mlp.0.weight",   "down.1.0.skip.weight", "down.0.0.conv1.bias", "mid.0.time_proj.bias",
      "up.0.0.norm1.weight", "up.1.0.conv2.weight",  "conv_out.bias"};
  for (const auto& [name, p] : net.named_parameters()) {
    if (!checked.count(name)) Tensor(p).set_requires_grad(false);
  }
  const Tensor t = diffvi::tensor({3.0, 40.0}, diffvi::TensorOptions(DType::f64));
  const std::vector<Tensor> params = net.parameters();
  std::vector<Tensor> inputs = {testutil::Leaf(testutil::Uniform({2, 1, 4, 4}, 5, DType::f64))};
  std::vector<Tensor> leaves;
  for (const Tensor& p : params) {
    if (p.requires_grad()) leaves.push_back(p);
  }
  inputs.insert(inputs.end(), leaves.begin(), leaves.end());
  // gradcheck perturbs private copies of the inputs: point each parameter at its copy.
  auto f = [&](const std::vector<Tensor>& xs) {
    std::vector<std::shared_ptr<diffvi::Storage>> saved;
    for (size_t k = 0; k < leaves.size(); ++k) {
      saved.push_back(leaves[k].impl()->storage);
      leaves[k].impl()->storage = xs[k + 1].impl()->storage;
    }
    Tensor out = net(xs[0], t);
    for (size_t k = 0; k < leaves.size(); ++k) leaves[k].impl()->storage = saved[k];
    return out;
  };
  const diffvi::GradcheckResult r = diffvi::gradcheck(f, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
