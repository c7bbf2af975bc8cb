// oneDNN plumbing for the CPU backend: one engine, a per-thread stream, and a cache of created
// primitives keyed by everything that shapes them, so a repeated shape pays only execution.
#pragma once

#include <cstdint>
#include <dnnl.hpp>
#include <functional>
#include <vector>

namespace diffvi::cpu {

dnnl::engine& dnnl_engine();
// oneDNN streams are not documented as thread-safe; a CPU stream is a few bytes, so each
// thread gets its own on the one engine.
dnnl::stream& dnnl_stream();

// Identifies a primitive: a kind tag first, then dims/strides/flags. The OpenMP thread count
// is appended by the cache, because oneDNN sizes its work split when a primitive is created.
using PrimitiveKey = std::vector<int64_t>;

enum class PrimitiveKind : int64_t {
  matmul = 1,
  softmax_fwd,
  softmax_bwd,
  eltwise,
  conv_fwd,
  conv_bwd_data,
  conv_bwd_weights
};

// Returns the cached primitive for `key`, creating it with `make` on first use. An empty
// primitive (make threw dnnl::error, e.g. an unsupported layout) is cached too, so the caller
// falls back without retrying creation on every call. Thread-safe.
dnnl::primitive cached_primitive(PrimitiveKey key, const std::function<dnnl::primitive()>& make);

inline dnnl::memory::dims to_dims(const std::vector<int64_t>& v) {
  return dnnl::memory::dims(v.begin(), v.end());
}

// A memory object over caller-owned data (no copy).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* data) {
  return dnnl::memory(md, dnnl_engine(), const_cast<void*>(data));
}

}  // namespace diffvi::cpu
