// Checkpoint: groups under prefixes, step counter, Generator states and metadata survive a save
// and load; reserved entries are validated; absent pieces raise IOError naming the file.
#include "diffvi/nn/checkpoint.h"

#include <gtest/gtest.h>

#include <functional>

#include "diffvi/nn/safetensors.h"
#include "diffvi/tensor/errors.h"
#include "nn/checkpoint/temp_dir.h"

namespace {

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using diffvi::nn::Checkpoint;
using diffvi::nn::TensorDict;

TEST(Checkpoint, RoundTripsGroupsStepGeneratorsAndMetadata) {
  testutil::TempDir dir;
  const TensorDict model = {
      {"layers.0.weight", diffvi::from_vector(std::vector<float>{1, 2, 3, 4}, Shape{2, 2})},
      {"layers.0.bias", diffvi::from_vector(std::vector<float>{5, 6}, Shape{2})}};
  const TensorDict optim = {
      {"state.0.exp_avg", diffvi::from_vector(std::vector<double>{0.1, 0.2}, Shape{2}, DType::f64)},
      {"state.0.step", diffvi::from_vector(std::vector<int64_t>{17}, Shape{})},
      {"empty", diffvi::empty(Shape{0})}};
  diffvi::Generator gen(0xFFFF'FFFF'FFFF'FFF0ull);  // top bit set: must survive the i64 bit cast
  gen.advance(123456789);
  diffvi::Generator data_gen(5);

  Checkpoint ck;
  ck.add_group("model", model);
  ck.add_group("optim", optim);
  ck.add_group("ema", model);
  ck.set_step(1000);
  ck.set_generator("default", gen);
  ck.set_generator("data", data_gen);
  ck.metadata()["epoch"] = "3";
  const std::string path = dir.file("ck.safetensors");
  ck.save(path);

  // The file is plain safetensors with dotted names.
  const auto raw = diffvi::nn::load_safetensors(path);
  EXPECT_TRUE(diffvi::nn::find_tensor(raw.tensors, "model.layers.0.weight").defined());
  EXPECT_TRUE(diffvi::nn::find_tensor(raw.tensors, "optim.state.0.exp_avg").defined());
  EXPECT_TRUE(diffvi::nn::find_tensor(raw.tensors, "step").defined());
  EXPECT_TRUE(diffvi::nn::find_tensor(raw.tensors, "rng.default").defined());
  EXPECT_EQ(raw.metadata.at("format"), "diffvi.checkpoint");

  const Checkpoint back = Checkpoint::load(path);
  EXPECT_EQ(back.source(), path);
  EXPECT_EQ(back.step(), 1000);
  EXPECT_EQ(back.metadata().at("epoch"), "3");
  EXPECT_EQ(back.metadata().count("format"), 0u);
  diffvi::Generator restored(1);
  back.restore_generator("default", restored);
  EXPECT_EQ(restored.seed(), gen.seed());
  EXPECT_EQ(restored.offset(), gen.offset());
  back.restore_generator("data", restored);
  EXPECT_EQ(restored.seed(), 5u);
  for (const char* prefix : {"model", "optim", "ema"}) ASSERT_TRUE(back.has_group(prefix));
  const TensorDict m = back.group("model");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(diffvi::nn::find_tensor(m, "layers.0.weight").to_vector<float>(),
            (std::vector<float>{1, 2, 3, 4}));
  const TensorDict o = back.group("optim");
  EXPECT_EQ(diffvi::nn::find_tensor(o, "state.0.exp_avg").to_vector<double>(),
            (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(diffvi::nn::find_tensor(o, "state.0.step").dtype(), DType::i64);
  EXPECT_EQ(diffvi::nn::find_tensor(o, "empty").numel(), 0);
}

TEST(Checkpoint, AbsentPiecesNameTheFile) {
  testutil::TempDir dir;
  const std::string path = dir.file("bare.safetensors");
  Checkpoint().save(path);
  const Checkpoint ck = Checkpoint::load(path);
  diffvi::Generator gen;
  const auto expect_named = [&](const std::function<void()>& f, const std::string& what) {
    try {
      f();
      ADD_FAILURE() << "no IOError for " << what;
    } catch (const diffvi::IOError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_named([&] { (void)ck.step(); }, "no step counter");
  expect_named([&] { ck.restore_generator("default", gen); }, "generator 'default'");
  expect_named([&] { (void)ck.require_group("model"); }, "no group 'model'");
  EXPECT_TRUE(ck.group("model").empty());
  EXPECT_THROW(Checkpoint::load(dir.file("missing.safetensors")), diffvi::IOError);
}

TEST(Checkpoint, ValidatesReservedEntries) {
  testutil::TempDir dir;
  const auto load_with = [&](const std::string& name, const Tensor& t) {
    const std::string path = dir.file("bad.safetensors");
    diffvi::nn::save_safetensors(path, {{name, t}});
    return Checkpoint::load(path);
  };
  EXPECT_THROW(load_with("step", diffvi::zeros(Shape{})), diffvi::IOError);  // f32
  EXPECT_THROW(load_with("step", diffvi::zeros(Shape{2}, DType::i64)), diffvi::IOError);
  EXPECT_THROW(load_with("rng.default", diffvi::zeros(Shape{3}, DType::i64)), diffvi::IOError);
  EXPECT_THROW(load_with("orphan", diffvi::zeros(Shape{1})), diffvi::IOError);
  EXPECT_EQ(load_with("step", diffvi::full(Shape{1}, 9, DType::i64)).step(), 9);
}

TEST(Checkpoint, RejectsBadGroupPrefixes) {
  Checkpoint ck;
  const TensorDict t = {{"w", diffvi::zeros(Shape{1})}};
  EXPECT_THROW(ck.add_group("", t), diffvi::ValueError);
  EXPECT_THROW(ck.add_group("a.b", t), diffvi::ValueError);
  EXPECT_THROW(ck.add_group("step", t), diffvi::ValueError);
  EXPECT_THROW(ck.add_group("rng", t), diffvi::ValueError);
  ck.add_group("model", t);
  EXPECT_THROW(ck.add_group("model", t), diffvi::ValueError);
}

// Saving over an existing checkpoint replaces it (atomic failure cases: test_safetensors.cpp).
TEST(Checkpoint, SaveReplacesAnExistingFile) {
  testutil::TempDir dir;
  const std::string path = dir.file("ck.safetensors");
  Checkpoint a;
  a.set_step(1);
  a.save(path);
  Checkpoint b;
  b.set_step(2);
  b.save(path);
  EXPECT_EQ(Checkpoint::load(path).step(), 2);
}

}  // namespace
