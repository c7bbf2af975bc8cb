// An in-memory labelled data set: images (or any features) with one row per example, and i64
// class labels. The readers in data/ return it; DataLoader batches it.
#pragma once

#include "diffvi/tensor/tensor.h"

namespace diffvi::data {

// Which part of a data set to load.
enum class Split { train, test };

// images: f32 [N, ...] (for image sets [N, 28, 28], values in [0, 1]); labels: i64 [N].
struct Dataset {
  Tensor images;
  Tensor labels;
  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

}  // namespace diffvi::data
