#include "diffvi/data/mnist_digits.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "diffvi/data/data_dir.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::data {
namespace {

constexpr int64_t kPixels = 28 * 28;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw IOError("MNIST digits file '" + path + "': " + problem);
}

// Skips JSON whitespace.
size_t skip_ws(const std::string& s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  return i;
}

// The pixel bytes of every image in one class file. The files are {"data": [v, v, ...]}; this
// hand-rolled scanner accepts exactly that shape (a DOM parse of the 21 MB is ~50x slower).
std::vector<uint8_t> read_class_file(const std::string& path, const std::string& dir) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IOError("MNIST digits file '" + path + "' not found; fetch the data set into '" + dir +
                  "' with " + kMnistDigitsFetchCommand + " (or set DIFFVI_DATA_DIR)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::string key = "\"data\"";
  size_t i = skip_ws(text, 0);
  if (i >= text.size() || text[i] != '{') fail(path, "not valid JSON (expected '{')");
  i = skip_ws(text, i + 1);
  if (text.compare(i, key.size(), key) != 0) {
    fail(path, "expected an object with a \"data\" array");
  }
  i = skip_ws(text, i + key.size());
  if (i >= text.size() || text[i] != ':') fail(path, "not valid JSON (expected ':')");
  i = skip_ws(text, i + 1);
  if (i >= text.size() || text[i] != '[') fail(path, "expected an object with a \"data\" array");
  i = skip_ws(text, i + 1);
  std::vector<uint8_t> bytes;
  bool closed = i < text.size() && text[i] == ']';
  while (!closed) {
    const size_t index = bytes.size();
    if (i >= text.size()) fail(path, "not valid JSON (the file ends inside the data array)");
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), v);
    if (ec != std::errc()) fail(path, "value " + std::to_string(index) + " is not a number");
    const double b = std::round(v * 255.0);
    if (!(v >= 0.0 && v <= 1.0) || std::abs(v - b / 255.0) > 6e-4) {
      fail(path, "value " + std::to_string(index) + " (" + std::to_string(v) +
                     ") is not a pixel/255 rounded to 3 decimals");
    }
    bytes.push_back(static_cast<uint8_t>(b));
    i = skip_ws(text, static_cast<size_t>(end - text.data()));
    if (i < text.size() && text[i] == ',') {
      i = skip_ws(text, i + 1);
    } else if (i < text.size() && text[i] == ']') {
      closed = true;
    } else {
      fail(path, "not valid JSON (expected ',' or ']' after value " + std::to_string(index) + ")");
    }
  }
  i = skip_ws(text, i + 1);
  if (i >= text.size() || text[i] != '}' || skip_ws(text, i + 1) != text.size()) {
    fail(path, "not valid JSON (expected '}' closing the file)");
  }
  if (bytes.empty() || bytes.size() % kPixels != 0) {
    fail(path, "wrong size: " + std::to_string(bytes.size()) +
                   " values is not a positive multiple of 784 (28x28)");
  }
  return bytes;
}

}  // namespace

std::string mnist_digits_default_dir() { return data_root() + "/mnist"; }

Dataset load_mnist_digits(Split split, const std::string& dir_arg) {
  const std::string dir = dir_arg.empty() ? mnist_digits_default_dir() : dir_arg;
  std::vector<float> pixels;
  std::vector<int64_t> labels;
  for (int d = 0; d < 10; ++d) {
    const std::string path = dir + "/" + std::to_string(d) + ".json";
    const std::vector<uint8_t> bytes = read_class_file(path, dir);
    const int64_t n = static_cast<int64_t>(bytes.size()) / kPixels;
    const int64_t n_test = n / 5;
    const int64_t first = split == Split::train ? 0 : n - n_test;
    const int64_t last = split == Split::train ? n - n_test : n;
    for (int64_t i = first; i < last; ++i) {
      for (int64_t p = 0; p < kPixels; ++p) {
        pixels.push_back(static_cast<float>(bytes[i * kPixels + p]) / 255.0f);
      }
      labels.push_back(d);
    }
  }
  const int64_t count = static_cast<int64_t>(labels.size());
  Dataset ds;
  ds.images = from_vector(pixels, Shape{count, 28, 28});
  ds.labels = from_vector(labels, Shape{count});
  return ds;
}

}  // namespace diffvi::data
