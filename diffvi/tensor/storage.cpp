#include "diffvi/tensor/storage.h"

#include <cstdlib>
#include <new>

#include "diffvi/tensor/errors.h"

namespace diffvi {

void* HostAllocator::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw ValueError("out of host memory allocating " + std::to_string(bytes) + " bytes");
  return p;
}

void HostAllocator::deallocate(void* ptr, size_t) { std::free(ptr); }

CachingAllocator::CachingAllocator(Allocator& raw) : raw_(raw) {}

CachingAllocator::~CachingAllocator() { empty_cache(); }

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes <= (size_t{1} << 20)) return (bytes + 63) / 64 * 64;
  size_t p = size_t{1} << 20;
  while (p < bytes) p <<= 1;
  return p;
}

void* CachingAllocator::allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = round_size(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.num_allocs;
    stats_.bytes_in_use += size;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use)
      stats_.peak_bytes_in_use = stats_.bytes_in_use;
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= size;
      return p;
    }
    ++stats_.num_raw_allocs;
  }
  try {
    return raw_.allocate(size);
  } catch (...) {
    empty_cache();  // memory may be sitting in the cache: release it and retry once
    try {
      return raw_.allocate(size);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.bytes_in_use -= size;
      throw;
    }
  }
}

void CachingAllocator::deallocate(void* ptr, size_t bytes) {
  if (!ptr) return;
  const size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
  free_[size].push_back(ptr);
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, blocks] : free_) {
    for (void* p : blocks) raw_.deallocate(p, size);
  }
  free_.clear();
  stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

CachingAllocator& host_allocator() {
  // Leaked on purpose: tensors in static objects may be freed after main returns.
  static HostAllocator* raw = new HostAllocator();
  static CachingAllocator* caching = new CachingAllocator(*raw);
  return *caching;
}

Storage::Storage(size_t n, Device dev, Allocator& alloc)
    : data(alloc.allocate(n)), bytes(n), device(dev), allocator(&alloc) {}

Storage::~Storage() { allocator->deallocate(data, bytes); }

}  // namespace diffvi
