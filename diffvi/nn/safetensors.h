// safetensors files: a named set of tensors plus string metadata, in the exact byte layout of
// Hugging Face's reference writer (what `safetensors.torch.save_file` produces), so weights move
// to and from PyTorch. Layout: an 8-byte little-endian header length N, N bytes of compact JSON
// (padded with spaces to a multiple of 8), then the raw little-endian, row-major tensor data.
//
//   {"__metadata__":{"k":"v"},"name":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},...}
//
// The writer orders tensors as the reference does: by dtype alignment, descending (I64, F64,
// F32), then by name (bytewise); data offsets are contiguous in that order; "__metadata__" comes
// first and is omitted when empty (metadata keys are written sorted). The reader enforces the
// reference's rules (header <= 100 MB, offsets contiguous from 0 and covering the data section
// exactly, so trailing bytes are rejected) and raises IOError naming the file and the problem.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "diffvi/nn/tensor_dict.h"
#include "diffvi/tensor/tensor.h"

namespace diffvi::nn {

// What a safetensors file holds: tensors in file (data offset) order, and the metadata.
struct SafetensorsContents {
  TensorDict tensors;
  std::map<std::string, std::string> metadata;
};

// The reference implementation's limit on the JSON header (100,000,000 bytes).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// The file's bytes for `tensors` (any dtype, device or strides; written as contiguous CPU data)
// and `metadata`. ValueError for duplicate names, the reserved name "__metadata__", or names and
// metadata that are not valid UTF-8.
std::string serialize_safetensors(const TensorDict& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

// Writes `tensors` and `metadata` to `path` atomically (temporary file, fsync, rename, fsync of
// the directory): on any failure the previous file is left intact. IOError on I/O failure.
void save_safetensors(const std::string& path, const TensorDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Parses a whole file held in memory. `source` names it in error messages (usually the path).
// Validates everything before allocating tensor memory; IOError naming `source` and the problem.
SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source);

// Reads and parses `path` (tensors come back on the CPU). IOError naming the file for a missing
// or unreadable file and for every kind of corruption parse_safetensors detects.
SafetensorsContents load_safetensors(const std::string& path);

}  // namespace diffvi::nn
