// The IDX format of (Fashion-)MNIST: a 4-byte magic (0, 0, element type, number of dims), the
// dims as big-endian uint32, then the elements row-major. Files may be gzip-compressed (read
// through zlib, which also reads uncompressed files transparently). Only unsigned-byte elements
// (type 0x08) are supported, which is what MNIST and Fashion-MNIST use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diffvi/tensor/tensor.h"

namespace diffvi::data {

// A decoded IDX file: its dims and its unsigned-byte elements.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // numel(dims) bytes, row-major
};

// Upper bound on an IDX payload (1 GiB): larger headers are treated as corrupt.
inline constexpr uint64_t kIdxMaxBytes = uint64_t{1} << 30;

// Reads `path`. IOError naming the file when it is missing or unreadable, not valid gzip, has a
// bad magic, an unsupported element type, absurd dims, or holds fewer or more bytes than its
// dims announce.
IdxArray read_idx(const std::string& path);

// An IDX image file ([N, rows, cols] u8) as f32 [N, rows, cols] scaled to [0, 1] (byte / 255).
// IOError naming the file unless it has 3 dims.
Tensor read_idx_images(const std::string& path);

// An IDX label file ([N] u8) as i64 [N]. IOError naming the file unless it has 1 dim.
Tensor read_idx_labels(const std::string& path);

}  // namespace diffvi::data
