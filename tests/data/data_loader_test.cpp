// DataLoader: batch counts, drop_last, the order without shuffling, permutations drawn from a
// Generator (deterministic, reproducible from a saved state), row contents, argument errors.
#include "diffvi/data/data_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "diffvi/tensor/errors.h"

namespace {

using diffvi::Shape;
using diffvi::Tensor;
using diffvi::data::DataLoader;
using diffvi::data::DataLoaderOptions;

// inputs[i] = [i, 100 + i] (f32), targets[i] = i (i64).
std::pair<Tensor, Tensor> make_data(int64_t n) {
  std::vector<float> x;
  std::vector<int64_t> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(100 + i));
    y.push_back(i);
  }
  return {diffvi::from_vector(x, Shape{n, 2}), diffvi::from_vector(y, Shape{n})};
}

std::vector<int64_t> epoch_targets(DataLoader& loader) {
  loader.start_epoch();
  std::vector<int64_t> all;
  for (int64_t b = 0; b < loader.num_batches(); ++b) {
    const auto batch = loader.batch(b);
    const std::vector<int64_t> t = batch.targets.to_vector<int64_t>();
    const std::vector<float> x = batch.inputs.to_vector<float>();
    for (size_t k = 0; k < t.size(); ++k) {
      EXPECT_EQ(x[2 * k], static_cast<float>(t[k]));  // rows stay paired
      EXPECT_EQ(x[2 * k + 1], static_cast<float>(100 + t[k]));
    }
    all.insert(all.end(), t.begin(), t.end());
  }
  return all;
}

TEST(DataLoader, BatchesWithoutShuffle) {
  auto [x, y] = make_data(10);
  diffvi::Generator gen(1);
  DataLoader loader(x, y, {.batch_size = 4, .shuffle = false, .drop_last = false}, gen);
  EXPECT_EQ(loader.num_batches(), 3);
  loader.start_epoch();
  EXPECT_EQ(loader.batch(0).inputs.shape(), (Shape{4, 2}));
  EXPECT_EQ(loader.batch(2).targets.shape(), (Shape{2}));
  std::vector<int64_t> expect(10);
  std::iota(expect.begin(), expect.end(), 0);
  EXPECT_EQ(epoch_targets(loader), expect);
  EXPECT_EQ(gen.offset(), 0u);  // no draws without shuffling
  DataLoader dropping(x, y, {.batch_size = 4, .shuffle = false, .drop_last = true}, gen);
  EXPECT_EQ(dropping.num_batches(), 2);
  EXPECT_EQ(epoch_targets(dropping).size(), 8u);
}

TEST(DataLoader, ShufflesFromTheGenerator) {
  auto [x, y] = make_data(50);
  diffvi::Generator gen(42);
  DataLoader loader(x, y, {.batch_size = 8, .shuffle = true}, gen);
  const std::vector<int64_t> e1 = epoch_targets(loader);
  EXPECT_EQ(gen.offset(), 50u);
  const diffvi::Generator saved = gen;
  const std::vector<int64_t> e2 = epoch_targets(loader);
  EXPECT_NE(e1, e2);  // a new permutation each epoch
  std::vector<int64_t> sorted = e1;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expect(50);
  std::iota(expect.begin(), expect.end(), 0);
  EXPECT_EQ(sorted, expect);  // a permutation
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(e1, identity);
  // Same seed, same permutation; a restored generator state replays epoch 2.
  diffvi::Generator gen2(42);
  DataLoader again(x, y, {.batch_size = 8, .shuffle = true}, gen2);
  EXPECT_EQ(epoch_targets(again), e1);
  diffvi::Generator resumed(0);
  resumed.set_state(saved.seed(), saved.offset());
  DataLoader resumed_loader(x, y, {.batch_size = 8, .shuffle = true}, resumed);
  EXPECT_EQ(epoch_targets(resumed_loader), e2);
}

TEST(DataLoader, ArgumentErrors) {
  auto [x, y] = make_data(5);
  auto [x6, y6] = make_data(6);
  diffvi::Generator gen;
  EXPECT_THROW(DataLoader(x, y6, {}, gen), diffvi::ShapeError);
  EXPECT_THROW(DataLoader(x, y, {.batch_size = 0}, gen), diffvi::ValueError);
  EXPECT_THROW(DataLoader(diffvi::scalar_tensor(1), y, {}, gen), diffvi::ShapeError);
  DataLoader loader(x, y, {.batch_size = 2}, gen);
  loader.start_epoch();
  EXPECT_THROW(loader.batch(3), diffvi::IndexError);
  EXPECT_THROW(loader.batch(-1), diffvi::IndexError);
}

}  // namespace
