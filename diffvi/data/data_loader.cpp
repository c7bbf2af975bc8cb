#include "diffvi/data/data_loader.h"

#include <algorithm>
#include <numeric>

#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::data {

DataLoader::DataLoader(Tensor inputs, Tensor targets, DataLoaderOptions options, Generator& gen)
    : inputs_(std::move(inputs)), targets_(std::move(targets)), options_(options), gen_(&gen) {
  if (!inputs_.defined() || !targets_.defined() || inputs_.dim() == 0 || targets_.dim() == 0) {
    throw ShapeError("DataLoader: inputs and targets must be defined tensors with a batch dim");
  }
  if (inputs_.size(0) != targets_.size(0)) {
    throw ShapeError("DataLoader: inputs " + describe(inputs_) + " and targets " +
                     describe(targets_) + " differ in their first dim");
  }
  if (options_.batch_size < 1) {
    throw ValueError("DataLoader: batch_size must be >= 1, got " +
                     std::to_string(options_.batch_size));
  }
  n_ = inputs_.size(0);
  order_.resize(static_cast<size_t>(n_));
  std::iota(order_.begin(), order_.end(), int64_t{0});
}

int64_t DataLoader::num_batches() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n_ / b : (n_ + b - 1) / b;
}

void DataLoader::start_epoch() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (!options_.shuffle || n_ < 2) return;
  const uint64_t seed = gen_->seed();
  const uint64_t offset = gen_->advance(static_cast<uint64_t>(n_));
  for (int64_t i = n_ - 1; i > 0; --i) {
    const double u = philox_uniform(seed, offset, static_cast<uint64_t>(i));
    const int64_t j = std::min<int64_t>(i, static_cast<int64_t>(u * static_cast<double>(i + 1)));
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
  }
}

Batch DataLoader::batch(int64_t i) const {
  if (i < 0 || i >= num_batches()) {
    throw IndexError("DataLoader::batch: index " + std::to_string(i) + " out of range for " +
                     std::to_string(num_batches()) + " batches");
  }
  const int64_t begin = i * options_.batch_size;
  const int64_t end = std::min(n_, begin + options_.batch_size);
  std::vector<int64_t> idx(order_.begin() + begin, order_.begin() + end);
  const Tensor index_cpu = from_vector(idx, Shape{end - begin});
  Batch out;
  out.inputs = raw::index_select(inputs_, 0, raw::to(index_cpu, inputs_.device()));
  out.targets = raw::index_select(targets_, 0, raw::to(index_cpu, targets_.device()));
  return out;
}

}  // namespace diffvi::data
