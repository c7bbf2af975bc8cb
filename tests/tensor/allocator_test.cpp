// The caching allocator: blocks are reused by size, statistics track live and cached bytes, and
// tensors hand their memory back when the last handle dies.
#include <gtest/gtest.h>

#include <cstdlib>

#include "test_util.h"

namespace {

// Counts raw allocations so reuse is observable.
class CountingAllocator : public diffvi::Allocator {
 public:
  void* allocate(size_t bytes) override {
    ++allocs;
    return std::malloc(bytes);
  }
  void deallocate(void* ptr, size_t) override {
    ++frees;
    std::free(ptr);
  }
  int allocs = 0, frees = 0;
};

}  // namespace

TEST(Allocator, CachesFreedBlocksBySize) {
  CountingAllocator raw;
  {
    diffvi::CachingAllocator cache(raw);
    void* a = cache.allocate(100);
    EXPECT_EQ(cache.stats().bytes_in_use, 128u);  // rounded up to 64 bytes
    cache.deallocate(a, 100);
    EXPECT_EQ(cache.stats().bytes_in_use, 0u);
    EXPECT_EQ(cache.stats().bytes_cached, 128u);
    void* b = cache.allocate(120);  // same rounded size: served from the cache
    EXPECT_EQ(b, a);
    EXPECT_EQ(raw.allocs, 1);
    void* c = cache.allocate(1000);
    EXPECT_EQ(raw.allocs, 2);
    const diffvi::AllocatorStats s = cache.stats();
    EXPECT_EQ(s.num_allocs, 3u);
    EXPECT_EQ(s.num_raw_allocs, 2u);
    EXPECT_EQ(s.peak_bytes_in_use, 128u + 1024u);
    cache.deallocate(b, 120);
    cache.deallocate(c, 1000);
    cache.empty_cache();
    EXPECT_EQ(raw.frees, 2);
    EXPECT_EQ(cache.stats().bytes_cached, 0u);
  }
  EXPECT_EQ(raw.allocs, raw.frees);
}

TEST(Allocator, LargeBlocksRoundToPowersOfTwo) {
  CountingAllocator raw;
  diffvi::CachingAllocator cache(raw);
  void* a = cache.allocate((1u << 20) + 1);
  EXPECT_EQ(cache.stats().bytes_in_use, 2u << 20);
  cache.deallocate(a, (1u << 20) + 1);
  void* b = cache.allocate(3u << 19);  // 1.5 MiB rounds to the same 2 MiB block
  EXPECT_EQ(b, a);
  cache.deallocate(b, 3u << 19);
}

TEST(Allocator, ZeroBytesAllocateNothing) {
  CountingAllocator raw;
  diffvi::CachingAllocator cache(raw);
  EXPECT_EQ(cache.allocate(0), nullptr);
  EXPECT_EQ(raw.allocs, 0);
}

TEST(Allocator, TensorsReturnMemoryToTheHostAllocator) {
  diffvi::CachingAllocator& host = diffvi::host_allocator();
  const size_t before = host.stats().bytes_in_use;
  {
    diffvi::Tensor t = diffvi::zeros({1000}, diffvi::DType::f64);
    diffvi::Tensor v = diffvi::raw::slice(t, 0, 10, 20);  // a view keeps the storage alive
    EXPECT_EQ(host.stats().bytes_in_use, before + 8000u);
    t = diffvi::Tensor();
    EXPECT_EQ(host.stats().bytes_in_use, before + 8000u);
  }
  EXPECT_EQ(host.stats().bytes_in_use, before);
  // Storage is 64-byte aligned (vector kernels rely on it).
  diffvi::Tensor a = diffvi::empty({3});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data_ptr()) % 64, 0u);
}
