// Host-side views of a kernel's Buf, computed once per call and shared by every backend (the
// reference loops, the CUDA launches, the fused defaults): the same reading of a buffer as a
// batch of matrices, a stack of rows, or a walk split at one axis. Plain structs, so a CUDA
// kernel can take them by value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/shape.h"

namespace diffvi {

// A logical [B, R, C] operand: element (b, r, c) at data[b * sb + r * sr + c * sc]. Reading a
// transposed operand is then only a swap of sr and sc, and a 2-D buffer is a batch of one.
struct MatView {
  int64_t batch, rows, cols;
  int64_t sb, sr, sc;
};

// `backend` names the caller in the ShapeError for a rank other than 2 or 3 ("cuda backend").
inline MatView mat_view(const Buf& b, bool transposed, const char* backend, const char* what) {
  MatView v{};
  if (b.ndim() == 3) {
    v = {b.shape[0], b.shape[1], b.shape[2], b.strides[0], b.strides[1], b.strides[2]};
  } else if (b.ndim() == 2) {
    v = {1, b.shape[0], b.shape[1], 0, b.strides[0], b.strides[1]};
  } else {
    throw ShapeError(std::string(backend) + ": matmul needs a 2-D or 3-D " + what + ", got " +
                     shape_str(b.shape));
  }
  if (v.batch == 1) v.sb = 0;  // a batch of one serves every batch index
  if (transposed) {
    std::swap(v.rows, v.cols);
    std::swap(v.sr, v.sc);
  }
  // The stride of an extent-1 dim is never used; normalised, layout tests (cuBLAS's) see it dense.
  if (v.cols == 1) v.sc = 1;
  if (v.rows == 1) v.sr = v.cols;
  return v;
}

// A [rows, cols] operand: element (r, c) at data[r * sr + c * sc]. The contract hands the
// row-wise kernels 2-D buffers; any other rank is read as a contiguous buffer whose last dim is
// the row.
struct RowView {
  int64_t rows, cols, sr, sc;
};

inline RowView row_view(const Buf& b) {
  if (b.ndim() == 2) return {b.shape[0], b.shape[1], b.strides[0], b.strides[1]};
  const int64_t cols = b.ndim() == 0 ? 1 : b.shape.back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < b.ndim(); ++d) rows *= b.shape[d];
  return {rows, cols, cols, 1};
}

// Splits `strides` into (strides with `axis` zeroed, stride along `axis`), for the indexing
// kernels: walk one shape with the indexed buffer's axis stride zeroed, then add index * step.
// A rank-0 buffer is indexed as if 1-D of length 1 (PyTorch allows dim 0 there), so its only
// valid index is 0.
struct AxisSplit {
  Strides rest;
  int64_t step;
};

inline AxisSplit split_axis(const Strides& strides, int64_t axis) {
  if (strides.empty()) return {strides, 0};
  Strides rest = strides;
  rest[static_cast<size_t>(axis)] = 0;
  return {rest, strides[static_cast<size_t>(axis)]};
}

}  // namespace diffvi
