// What the fused kernels' defaults (fused_defaults.cpp, conv_defaults.cpp) are built with:
// temporaries in the calling backend's own memory, and re-views of a Buf with other shapes and
// strides. Internal to tensor/; nothing here is part of the public API.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/storage.h"

namespace diffvi::defaults {

// Owns the temporaries of one default kernel call; they are freed when it goes out of scope.
class Scratch {
 public:
  explicit Scratch(Backend& backend) : backend_(backend) {}

  // A contiguous buffer of `shape` on the backend (uninitialised).
  Buf make(DType dtype, const Shape& shape) {
    const size_t bytes = static_cast<size_t>(numel(shape)) * dtype_size(dtype);
    storages_.push_back(
        std::make_unique<Storage>(bytes, Device{backend_.device_type(), 0}, backend_.allocator()));
    return Buf{storages_.back()->data, dtype, shape, contiguous_strides(shape)};
  }
  Buf like(const Buf& b) { return make(b.dtype, b.shape); }

  // An i64 buffer on the backend holding `values` (built on the host), seen as `shape` with
  // `strides` (zero strides repeat it).
  Buf index(const std::vector<int64_t>& values, const Shape& shape, const Strides& strides) {
    Buf b = make(DType::i64, {static_cast<int64_t>(values.size())});
    backend_.copy_from_host(b.data, values.data(), values.size() * sizeof(int64_t));
    b.shape = shape;
    b.strides = strides;
    return b;
  }

 private:
  Backend& backend_;
  std::vector<std::unique_ptr<Storage>> storages_;
};

// `b`'s memory from element `offset` on, seen as `shape` with `strides`.
inline Buf view(const Buf& b, const Shape& shape, const Strides& strides, int64_t offset = 0) {
  return Buf{static_cast<char*>(b.data) + offset * static_cast<int64_t>(dtype_size(b.dtype)),
             b.dtype, shape, strides};
}
// `b` (contiguous) seen as `shape`, contiguously.
inline Buf reshaped(const Buf& b, const Shape& shape, int64_t offset = 0) {
  return view(b, shape, contiguous_strides(shape), offset);
}

}  // namespace diffvi::defaults
