// IDX reader and the Fashion-MNIST loader on fixture files made here (gzip via zlib), every
// failure mode with its message, and the real Debian data set when installed.
#include "diffvi/data/idx.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/fixtures.h"
#include "diffvi/data/fashion_mnist.h"
#include "diffvi/tensor/errors.h"
#include "nn/checkpoint/temp_dir.h"

namespace {

using diffvi::Shape;
using diffvi::data::Split;

// Expects `f` to throw IOError with a message containing every string in `parts`.
template <class F>
void expect_io_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no IOError";
  } catch (const diffvi::IOError& e) {
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message: " << e.what() << "\nwanted: " << p;
    }
  }
}

TEST(Idx, ReadsGzippedAndPlainFiles) {
  testutil::TempDir dir;
  const std::vector<uint8_t> px = testutil::image_pixels(3);
  testutil::write_gzip(dir.file("img.gz"), testutil::idx_bytes({3, 28, 28}, px));
  testutil::write_plain(dir.file("lab"), testutil::idx_bytes({3}, {7, 0, 255}));
  const diffvi::Tensor images = diffvi::data::read_idx_images(dir.file("img.gz"));
  EXPECT_EQ(images.shape(), (Shape{3, 28, 28}));
  EXPECT_EQ(images.dtype(), diffvi::DType::f32);
  const std::vector<float> v = images.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], px[i] / 255.0f) << i;
  const diffvi::Tensor labels = diffvi::data::read_idx_labels(dir.file("lab"));
  EXPECT_EQ(labels.dtype(), diffvi::DType::i64);
  EXPECT_EQ(labels.to_vector<int64_t>(), (std::vector<int64_t>{7, 0, 255}));
  const auto raw = diffvi::data::read_idx(dir.file("img.gz"));
  EXPECT_EQ(raw.dims, (std::vector<int64_t>{3, 28, 28}));
  EXPECT_EQ(raw.data, px);
  // Zero images is a valid (empty) file.
  testutil::write_gzip(dir.file("none.gz"), testutil::idx_bytes({0, 28, 28}, {}));
  EXPECT_EQ(diffvi::data::read_idx_images(dir.file("none.gz")).shape(), (Shape{0, 28, 28}));
}

TEST(Idx, CorruptFilesNameTheFileAndProblem) {
  testutil::TempDir dir;
  const auto check = [&](const std::string& bytes, const std::string& what) {
    const std::string path = dir.file("bad.gz");
    testutil::write_gzip(path, bytes);
    expect_io_error([&] { diffvi::data::read_idx(path); }, {path, what});
  };
  check("", "shorter than the 4-byte magic");
  check(std::string("\x01\x00\x08\x01", 4) + std::string(8, '\0'), "bad magic");
  check(testutil::idx_bytes({2}, {1, 2}, 0x0D), "unsupported element type 0x0d");
  check(std::string("\0\0\x08\0", 4), "0 dims");
  check(std::string("\0\0\x08\x09", 4), "9 dims");
  check(std::string("\0\0\x08\x03\0\0\0\x02\0\0", 10), "truncated inside the dims header");
  check(testutil::idx_bytes({5, 28, 28}, testutil::image_pixels(4)), "truncated");
  check(testutil::idx_bytes({2}, {1, 2, 3}), "trailing bytes");
  check(testutil::idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 28}, {1}), "absurd dims");
  // A header claiming 1 GB of data on a short file must not allocate it (just fail as truncated).
  check(testutil::idx_bytes({1u << 30}, {1, 2, 3}), "truncated");
  // Not gzip data after a gzip magic.
  const std::string path = dir.file("broken.gz");
  testutil::write_plain(path, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage!", 18));
  expect_io_error([&] { diffvi::data::read_idx(path); }, {path});
  // Dim count that does not match the use.
  testutil::write_gzip(dir.file("lab.gz"), testutil::idx_bytes({2}, {1, 2}));
  expect_io_error([&] { diffvi::data::read_idx_images(dir.file("lab.gz")); },
                  {dir.file("lab.gz"), "expected image dims"});
  expect_io_error([&] { diffvi::data::read_idx_labels(dir.file("bad.gz")); }, {"bad.gz"});
  expect_io_error([&] { diffvi::data::read_idx(dir.file("missing.gz")); },
                  {dir.file("missing.gz"), "cannot open"});
}

TEST(FashionMnist, LoadsFixtureSplits) {
  testutil::TempDir dir;
  testutil::write_fashion_split(dir.path(), "train", 12);
  testutil::write_fashion_split(dir.path(), "t10k", 5);
  const auto train = diffvi::data::load_fashion_mnist(Split::train, dir.path());
  const auto test = diffvi::data::load_fashion_mnist(Split::test, dir.path());
  EXPECT_EQ(train.size(), 12);
  EXPECT_EQ(test.size(), 5);
  EXPECT_EQ(train.images.shape(), (Shape{12, 28, 28}));
  EXPECT_EQ(test.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(FashionMnist, MissingFilesNameTheInstallCommand) {
  testutil::TempDir dir;
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::train, dir.path()); },
                  {"apt-get install dataset-fashion-mnist", "train-images-idx3-ubyte.gz"});
  testutil::write_fashion_split(dir.path(), "t10k", 3);
  std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte.gz"));
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::test, dir.path()); },
                  {"apt-get install dataset-fashion-mnist", "t10k-labels-idx1-ubyte.gz"});
}

TEST(FashionMnist, WrongSizesNameTheFile) {
  testutil::TempDir dir;
  const std::string images = dir.file("train-images-idx3-ubyte.gz");
  const std::string labels = dir.file("train-labels-idx1-ubyte.gz");
  // 4 images but 3 labels.
  testutil::write_gzip(images, testutil::idx_bytes({4, 28, 28}, testutil::image_pixels(4)));
  testutil::write_gzip(labels, testutil::idx_bytes({3}, {0, 1, 2}));
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::train, dir.path()); },
                  {labels, "3 labels for 4 images"});
  // 27x28 images.
  testutil::write_gzip(images, testutil::idx_bytes({1, 27, 28}, std::vector<uint8_t>(27 * 28)));
  testutil::write_gzip(labels, testutil::idx_bytes({1}, {0}));
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::train, dir.path()); },
                  {images, "expected [N, 28, 28]"});
  // A label outside 0..9.
  testutil::write_gzip(images, testutil::idx_bytes({1, 28, 28}, testutil::image_pixels(1)));
  testutil::write_gzip(labels, testutil::idx_bytes({1}, {10}));
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::train, dir.path()); },
                  {labels, "label 10"});
  // Bad magic in the image file.
  testutil::write_gzip(images, "not an idx file at all");
  expect_io_error([&] { diffvi::data::load_fashion_mnist(Split::train, dir.path()); },
                  {images, "bad magic"});
}

TEST(FashionMnist, RealDebianDataSet) {
  const std::string dir = diffvi::data::kFashionMnistDefaultDir;
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "Fashion-MNIST not installed; install it with: "
                 << diffvi::data::kFashionMnistInstallCommand;
  }
  for (const auto& [split, n] : {std::pair{Split::train, 60000}, std::pair{Split::test, 10000}}) {
    const auto ds = diffvi::data::load_fashion_mnist(split);
    ASSERT_EQ(ds.images.shape(), (Shape{n, 28, 28}));
    ASSERT_EQ(ds.labels.shape(), (Shape{n}));
    std::vector<int64_t> counts(10, 0);
    for (int64_t l : ds.labels.to_vector<int64_t>()) ++counts.at(static_cast<size_t>(l));
    for (int64_t c : counts) EXPECT_EQ(c, n / 10);  // balanced classes
    const std::vector<float> px = ds.images.to_vector<float>();
    float lo = 1, hi = 0;
    for (float p : px) lo = std::min(lo, p), hi = std::max(hi, p);
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
  }
}

}  // namespace
