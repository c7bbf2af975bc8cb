// Mini-batches over (inputs, targets) tensors that share their first dim: an epoch is a
// permutation of the examples (drawn from a Generator when shuffling, identity otherwise), cut
// into batches of batch_size; the last short batch is dropped on request. The permutation uses
// only the Generator's counter, so saving and restoring its state reproduces the epoch exactly.
#pragma once

#include <cstdint>
#include <vector>

#include "diffvi/tensor/generator.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::data {

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
};

struct Batch {
  Tensor inputs;   // [B, ...] rows of the inputs
  Tensor targets;  // [B, ...] rows of the targets
};

class DataLoader {
 public:
  // `gen` must outlive the loader (it is only used when shuffling). ShapeError when the first
  // dims differ or a tensor is 0-d; ValueError when batch_size < 1.
  DataLoader(Tensor inputs, Tensor targets, DataLoaderOptions options, Generator& gen);

  int64_t num_examples() const { return n_; }
  // Batches per epoch: ceil(N / B), or floor(N / B) with drop_last.
  int64_t num_batches() const;

  // Starts an epoch: draws a fresh permutation (Fisher–Yates on N uniforms from the generator,
  // advancing it by N) when shuffling. Call once before the first epoch too.
  void start_epoch();
  // Batch `i` (0 <= i < num_batches()) of the current epoch; IndexError when out of range.
  Batch batch(int64_t i) const;
  // The current epoch's example order.
  const std::vector<int64_t>& order() const { return order_; }

 private:
  Tensor inputs_;
  Tensor targets_;
  DataLoaderOptions options_;
  Generator* gen_;
  int64_t n_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace diffvi::data
