// Fashion-MNIST (Zalando; 60,000 train / 10,000 test 28x28 grey images in 10 classes) from the
// gzip IDX files of Debian's `dataset-fashion-mnist` package:
//   /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#pragma once

#include <string>

#include "diffvi/data/dataset.h"

namespace diffvi::data {

// Where Debian installs the files.
inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

// The command that installs the data set (named in the error for missing files).
inline constexpr const char* kFashionMnistInstallCommand = "apt-get install dataset-fashion-mnist";

// Loads a split: images f32 [N, 28, 28] in [0, 1], labels i64 [N] in 0..9. `dir` defaults to
// kFashionMnistDefaultDir. Missing files raise IOError naming the install command; corrupt ones
// (bad magic, not 28x28, image and label counts that differ, labels above 9, truncated data) an
// IOError naming the file.
Dataset load_fashion_mnist(Split split, const std::string& dir = kFashionMnistDefaultDir);

}  // namespace diffvi::data
