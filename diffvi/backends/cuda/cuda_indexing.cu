// CUDA backend: index_select, gather and scatter_add.
// Must match: ReferenceBackend::index_select / gather / scatter_add (reference_indexing.cpp).
// Same walk: one shape, the indexed buffer's stride along `axis` zeroed, index * stride added.
// scatter_add uses atomicAdd, so f32 sums into one slot may differ from the reference's
// row-major order in the last bits; i64 sums are exact.
#include <string>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/host_views.h"

namespace diffvi::cuda {

namespace {

void require_index(const char* kernel, const Buf& index) {
  if (index.dtype != DType::i64) {
    throw DTypeError(std::string("cuda backend: ") + kernel + " needs an i64 index, got " +
                     dtype_name(index.dtype));
  }
}

template <class F>
void visit_stored(DType dtype, const char* kernel, F&& f) {
  if (dtype == DType::f32) return f(float{});
  if (dtype == DType::i64) return f(int64_t{});
  reject_dtype(kernel, dtype);
}

// dst[o_dst] = src[o_src + idx[o_idx] * step] over `shape`: index_select and gather differ only
// in which strides walk the index.
template <class T>
void indexed_read(const Buf& dst, const Buf& src, const Strides& src_rest, int64_t step,
                  const Buf& index, const Strides& index_strides, const char* kernel) {
  const Indexer<3> ix = make_indexer<3>(dst.shape, {&dst.strides, &src_rest, &index_strides});
  T* out = dst.ptr<T>();
  const T* in = src.ptr<T>();
  const int64_t* idx = index.ptr<int64_t>();
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        int64_t o[3];
        ix.offsets(i, o);
        out[o[0]] = in[o[1] + idx[o[2]] * step];
      },
      kernel);
}

__device__ inline void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void atomic_add(int64_t* p, int64_t v) {
  // Two's-complement addition is the same bit operation on unsigned words.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

template <class T>
void scatter_add_typed(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) {
  const AxisSplit split = split_axis(dst.strides, axis);
  const int64_t step = split.step;
  const Indexer<3> ix = make_indexer<3>(src.shape, {&src.strides, &index.strides, &split.rest});
  T* out = dst.ptr<T>();
  const T* in = src.ptr<T>();
  const int64_t* idx = index.ptr<int64_t>();
  for_each_index(
      src.numel(),
      [=] __device__(int64_t i) {
        int64_t o[3];
        ix.offsets(i, o);
        atomic_add(out + o[2] + idx[o[1]] * step, in[o[0]]);
      },
      "scatter_add");
}

}  // namespace

void CudaBackend::index_select(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) {
  require_index("index_select", index);
  // index is 1-D; seen from dst's shape it varies along `axis` only.
  Strides index_strides(dst.shape.size(), 0);
  if (!index_strides.empty() && index.ndim() == 1) {
    index_strides[static_cast<size_t>(axis)] = index.strides[0];
  }
  const AxisSplit split = split_axis(src.strides, axis);
  visit_stored(dst.dtype, "index_select", [&](auto t) {
    indexed_read<decltype(t)>(dst, src, split.rest, split.step, index, index_strides,
                              "index_select");
  });
}

void CudaBackend::gather(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) {
  require_index("gather", index);
  const AxisSplit split = split_axis(src.strides, axis);
  visit_stored(dst.dtype, "gather", [&](auto t) {
    indexed_read<decltype(t)>(dst, src, split.rest, split.step, index, index.strides, "gather");
  });
}

void CudaBackend::scatter_add(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) {
  require_index("scatter_add", index);
  visit_stored(dst.dtype, "scatter_add",
               [&](auto t) { scatter_add_typed<decltype(t)>(dst, axis, index, src); });
}

}  // namespace diffvi::cuda
