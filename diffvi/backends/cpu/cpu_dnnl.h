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

// A cached primitive with this thread's memory objects for its arguments. Running it only
// re-points them at the caller's buffers, so a call allocates nothing: creating memory objects
// and an argument map on every call cost ~2 us, as much as a small matmul itself.
class BoundPrimitive {
 public:
  explicit operator bool() const { return static_cast<bool>(prim_); }
  // Points argument i (in the order of the ids given to bound_primitive) at data[i] and runs
  // the primitive to completion on this thread's stream.
  void execute(std::initializer_list<const void*> data);

 private:
  friend BoundPrimitive& bind_primitive(const PrimitiveKey&, std::initializer_list<int>,
                                        dnnl::primitive (*)(void*), void*);
  dnnl::primitive prim_;  // empty when oneDNN has no implementation (the caller falls back)
  std::vector<dnnl::memory> mems_;
  std::vector<dnnl_exec_arg_t> args_;
};

BoundPrimitive& bind_primitive(const PrimitiveKey& key, std::initializer_list<int> arg_ids,
                               dnnl::primitive (*make)(void*), void* context);

// This thread's binding of the primitive cached under `key` (created by make() on first use in
// any thread, through cached_primitive) with one memory object per id in `arg_ids`, each
// described as the primitive expects it. The key must fix every argument's layout.
template <class Make>
BoundPrimitive& bound_primitive(const PrimitiveKey& key, std::initializer_list<int> arg_ids,
                                Make&& make) {
  using M = std::remove_reference_t<Make>;
  return cpu::bind_primitive(
      key, arg_ids, [](void* m) -> dnnl::primitive { return (*static_cast<M*>(m))(); },
      const_cast<void*>(static_cast<const void*>(std::addressof(make))));
}

inline dnnl::memory::dims to_dims(const std::vector<int64_t>& v) {
  return dnnl::memory::dims(v.begin(), v.end());
}

// A memory object over caller-owned data (no copy).
inline dnnl::memory wrap(const dnnl::memory::desc& md, const void* data) {
  return dnnl::memory(md, dnnl_engine(), const_cast<void*>(data));
}

}  // namespace diffvi::cpu
