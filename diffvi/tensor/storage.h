// Refcounted device memory. Storage returns its block to the allocator that made it; the CPU
// allocator caches freed blocks by size so the many same-sized temporaries of a training step
// never reach malloc.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "diffvi/tensor/device.h"

namespace diffvi {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
};

struct AllocatorStats {
  size_t bytes_in_use = 0;  // held by live storages
  size_t bytes_cached = 0;  // freed, kept for reuse
  size_t peak_bytes_in_use = 0;
  size_t num_allocs = 0;      // requests served
  size_t num_raw_allocs = 0;  // requests that reached the raw allocator
};

// Wraps a raw allocator with per-size free lists (sizes rounded up to 64 bytes / powers of two
// above 1 MiB). Thread-safe.
class CachingAllocator : public Allocator {
 public:
  explicit CachingAllocator(Allocator& raw);
  ~CachingAllocator() override;
  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
  void empty_cache();
  AllocatorStats stats() const;

 private:
  static size_t round_size(size_t bytes);
  Allocator& raw_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  AllocatorStats stats_;
};

// 64-byte aligned host memory.
class HostAllocator : public Allocator {
 public:
  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
};

// The process-wide caching allocator for host memory (used by the CPU and reference backends).
CachingAllocator& host_allocator();

struct Storage {
  Storage(size_t bytes, Device device, Allocator& alloc);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  size_t bytes = 0;
  Device device;
  Allocator* allocator = nullptr;
};

}  // namespace diffvi
