// Reference backend: index_select, gather and scatter_add. Each walks one shape with the stride
// along `axis` zeroed for the indexed buffer, then adds index * stride itself.
#include <string>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"
#include "diffvi/tensor/host_views.h"

namespace diffvi {

using strided::for_each_offset;

void ReferenceBackend::index_select(const Buf& dst, const Buf& src, int64_t axis,
                                    const Buf& index) {
  strided::require_index("index_select", index);
  // index is 1-D; seen from dst's shape it varies along `axis` only.
  Strides index_strides(dst.shape.size(), 0);
  if (!index_strides.empty() && index.ndim() == 1) {
    index_strides[static_cast<size_t>(axis)] = index.strides[0];
  }
  const AxisSplit src_split = split_axis(src.strides, axis);
  const Strides& src_strides = src_split.rest;
  const int64_t src_step = src_split.step;
  const int64_t* idx = index.ptr<int64_t>();
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = src.ptr<T>();
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t os, int64_t oi) { out[od] = in[os + idx[oi] * src_step]; },
        dst.strides, src_strides, index_strides);
  });
}

void ReferenceBackend::gather(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) {
  strided::require_index("gather", index);
  // src may be larger than index in the other dims; index positions address it directly.
  const AxisSplit src_split = split_axis(src.strides, axis);
  const Strides& src_strides = src_split.rest;
  const int64_t src_step = src_split.step;
  const int64_t* idx = index.ptr<int64_t>();
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = src.ptr<T>();
    for_each_offset(
        dst.shape,
        [&](int64_t od, int64_t oi, int64_t os) { out[od] = in[os + idx[oi] * src_step]; },
        dst.strides, index.strides, src_strides);
  });
}

void ReferenceBackend::scatter_add(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) {
  strided::require_index("scatter_add", index);
  const AxisSplit dst_split = split_axis(dst.strides, axis);
  const Strides& dst_strides = dst_split.rest;
  const int64_t dst_step = dst_split.step;
  const int64_t* idx = index.ptr<int64_t>();
  visit_dtype(dst.dtype, [&](auto t) {
    using T = decltype(t);
    T* out = dst.ptr<T>();
    const T* in = src.ptr<T>();
    // Row-major over src, one add at a time: the order other backends' sums are judged by.
    for_each_offset(
        src.shape,
        [&](int64_t os, int64_t oi, int64_t od) { out[od + idx[oi] * dst_step] += in[os]; },
        src.strides, index.strides, dst_strides);
  });
}

}  // namespace diffvi
