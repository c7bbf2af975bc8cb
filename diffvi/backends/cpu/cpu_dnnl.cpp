// oneDNN plumbing of the CPU backend: the engine, per-thread streams, the primitive cache and
// per-thread argument bindings (cpu_dnnl.h).
#include "diffvi/backends/cpu/cpu_dnnl.h"

#include <omp.h>

#include <mutex>
#include <unordered_map>

namespace diffvi::cpu {

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

namespace {

// Per-thread bindings; bounded like the shared cache (entries hold refcounted primitives, so
// clearing is always safe).
using Bindings = std::unordered_map<PrimitiveKey, BoundPrimitive, KeyHash>;

}  // namespace

BoundPrimitive& bind_primitive(const PrimitiveKey& key, std::initializer_list<int> arg_ids,
                               dnnl::primitive (*make)(void*), void* context) {
  thread_local Bindings bindings;
  thread_local PrimitiveKey full;  // key + thread count, reusing its capacity call to call
  full.assign(key.begin(), key.end());
  full.push_back(omp_get_max_threads());
  auto it = bindings.find(full);
  if (it != bindings.end()) return it->second;
  if (bindings.size() >= kMaxCachedPrimitives) bindings.clear();
  BoundPrimitive b;
  b.prim_ = cached_primitive(key, [&] { return make(context); });
  if (b.prim_) {
    const_dnnl_primitive_desc_t pd = b.prim_.get_primitive_desc();
    for (int id : arg_ids) {
      const dnnl_memory_desc_t* md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, id);
      b.mems_.emplace_back(dnnl::memory::desc(*md), dnnl_engine(),
                           static_cast<void*>(DNNL_MEMORY_NONE));
    }
    for (size_t i = 0; i < b.mems_.size(); ++i) {
      b.args_.push_back({arg_ids.begin()[i], b.mems_[i].get()});
    }
  }
  return bindings.emplace(full, std::move(b)).first->second;
}

void BoundPrimitive::execute(std::initializer_list<const void*> data) {
  const void* const* p = data.begin();
  for (dnnl::memory& m : mems_) m.set_data_handle(const_cast<void*>(*p++));
  dnnl::stream& stream = dnnl_stream();
  const dnnl_status_t status = dnnl_primitive_execute(prim_.get(), stream.get(),
                                                      static_cast<int>(args_.size()), args_.data());
  if (status != dnnl_success) throw dnnl::error(status, "could not execute a primitive");
  stream.wait();
}

}  // namespace diffvi::cpu
