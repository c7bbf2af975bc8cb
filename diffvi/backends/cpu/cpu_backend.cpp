// Registration, threading and the oneDNN engine/stream/primitive cache of the CPU backend.
#include "diffvi/backends/cpu/cpu_backend.h"

#include <cblas.h>
#include <omp.h>

#include <mutex>
#include <unordered_map>

#include "diffvi/backends/cpu/cpu_dnnl.h"

namespace diffvi {
namespace cpu {

dnnl::engine& dnnl_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& dnnl_stream() {
  thread_local dnnl::stream stream(dnnl_engine());
  return stream;
}

namespace {

struct KeyHash {
  size_t operator()(const PrimitiveKey& key) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the 64-bit words
    for (int64_t v : key) {
      h ^= static_cast<uint64_t>(v);
      h *= 1099511628211ull;
    }
    return static_cast<size_t>(h);
  }
};

// Shapes in a training run are few; the bound only guards programs that sweep many shapes.
constexpr size_t kMaxCachedPrimitives = 4096;

}  // namespace

dnnl::primitive cached_primitive(PrimitiveKey key, const std::function<dnnl::primitive()>& make) {
  static std::mutex mutex;
  static std::unordered_map<PrimitiveKey, dnnl::primitive, KeyHash> cache;
  key.push_back(omp_get_max_threads());
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;  // a refcounted handle: safe after eviction
  }
  // Created outside the lock: creation can take milliseconds and may itself use OpenMP.
  dnnl::primitive prim;
  try {
    prim = make();
  } catch (const dnnl::error&) {
    prim = dnnl::primitive();  // unsupported here: remembered as empty, caller falls back
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() >= kMaxCachedPrimitives) cache.clear();
  cache.emplace(std::move(key), prim);
  return prim;
}

}  // namespace cpu

void CpuBackend::set_num_threads(int n) {
  omp_set_num_threads(n);
  // The OpenMP build of OpenBLAS follows omp_get_max_threads(), but it keeps its own cap too.
  openblas_set_num_threads(n);
}

namespace {

CpuBackend instance;
const bool registered = (register_backend(&instance, /*make_default=*/true), true);

}  // namespace

}  // namespace diffvi
