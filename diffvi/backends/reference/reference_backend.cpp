// Reference backend: memory, creation and random kernels, and its registration.
#include "diffvi/backends/reference/reference_backend.h"

#include <cstring>

#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/generator.h"

namespace diffvi {

using strided::for_each_offset;

Allocator& ReferenceBackend::allocator() { return host_allocator(); }

void ReferenceBackend::copy(const Buf& dst, const Buf& src) {
  visit_dtype(dst.dtype, [&](auto d) {
    using TD = decltype(d);
    visit_dtype(src.dtype, [&](auto s) {
      using TS = decltype(s);
      TD* out = dst.ptr<TD>();
      const TS* in = src.ptr<TS>();
      for_each_offset(
          dst.shape, [&](int64_t od, int64_t os) { out[od] = strided::convert<TD>(in[os]); },
          dst.strides, src.strides);
    });
  });
}

void ReferenceBackend::copy_from_host(void* dst, const void* host_src, size_t bytes) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void ReferenceBackend::copy_to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);
}

void ReferenceBackend::fill(const Buf& dst, double value) {
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    const T v = strided::convert<T>(value);
    T* out = dst.ptr<T>();
    for_each_offset(
        dst.shape, [&](int64_t o) { out[o] = v; }, dst.strides);
  });
}

void ReferenceBackend::random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
                              uint64_t offset) {
  strided::require_floating("random", dst.dtype);
  visit_floating(dst.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    uint64_t i = 0;  // row-major position in dst: the counter the contract defines
    for_each_offset(
        dst.shape,
        [&](int64_t o) {
          const double v = dist == Distribution::uniform
                               ? a + (b - a) * philox_uniform(seed, offset, i)
                               : a + b * philox_normal(seed, offset, i);
          out[o] = static_cast<T>(v);
          ++i;
        },
        dst.strides);
  });
}

void ReferenceBackend::arange(const Buf& dst, double start, double step) {
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    int64_t i = 0;
    // start + i * step (not repeated addition) so long ranges do not drift.
    for_each_offset(
        dst.shape,
        [&](int64_t o) {
          out[o] = strided::convert<T>(start + static_cast<double>(i) * step);
          ++i;
        },
        dst.strides);
  });
}

namespace {

// Registered but not the default: the CPU backend takes the device by default, and tests select
// this one by name (BackendGuard("reference")) to get the oracle.
struct ReferenceRegistrar {
  ReferenceRegistrar() {
    static ReferenceBackend instance;
    register_backend(&instance, /*make_default=*/false);
  }
};
const ReferenceRegistrar registrar;

}  // namespace

}  // namespace diffvi
