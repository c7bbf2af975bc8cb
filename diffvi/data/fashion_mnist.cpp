#include "diffvi/data/fashion_mnist.h"

#include <sys/stat.h>

#include "diffvi/data/idx.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::data {
namespace {

void require_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw IOError("Fashion-MNIST file '" + path +
                  "' not found; install the data set with: " + kFashionMnistInstallCommand);
  }
}

}  // namespace

Dataset load_fashion_mnist(Split split, const std::string& dir) {
  const std::string stem = dir + "/" + (split == Split::train ? "train" : "t10k");
  const std::string images_path = stem + "-images-idx3-ubyte.gz";
  const std::string labels_path = stem + "-labels-idx1-ubyte.gz";
  require_file(images_path);
  require_file(labels_path);
  Dataset ds;
  ds.images = read_idx_images(images_path);
  ds.labels = read_idx_labels(labels_path);
  if (ds.images.size(1) != 28 || ds.images.size(2) != 28) {
    throw IOError("IDX file '" + images_path + "': wrong size: images are " +
                  shape_str(ds.images.shape()) + ", expected [N, 28, 28]");
  }
  if (ds.images.size(0) != ds.labels.size(0)) {
    throw IOError("IDX file '" + labels_path +
                  "': wrong size: " + std::to_string(ds.labels.size(0)) + " labels for " +
                  std::to_string(ds.images.size(0)) + " images in '" + images_path + "'");
  }
  const int64_t* lab = ds.labels.numel() ? ds.labels.data<int64_t>() : nullptr;
  for (int64_t i = 0; i < ds.labels.numel(); ++i) {
    if (lab[i] > 9) {
      throw IOError("IDX file '" + labels_path + "': label " + std::to_string(lab[i]) +
                    " at index " + std::to_string(i) + " is not a class in 0..9");
    }
  }
  return ds;
}

}  // namespace diffvi::data
