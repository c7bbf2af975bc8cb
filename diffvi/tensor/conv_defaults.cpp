// The defaults of the convolution kernels, built from primitives as im2col + matmul: gather
// copies each output position's receptive field into columns, a (batched) matmul per group does
// the arithmetic, and scatter_add folds column gradients back onto the input (col2im). Padding
// reads one extra zero element per input plane, so the gather needs no bounds. Slower than a
// direct or oneDNN kernel (columns are KH·KW times the input), but correct on any backend.
#include <vector>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/kernel_scratch.h"

namespace diffvi {

using defaults::reshaped;
using defaults::Scratch;
using defaults::view;

namespace {

// Sizes read from x [N, C, H, W], w [O, C/G, KH, KW] and y [N, O, OH, OW].
struct ConvGeometry {
  int64_t n, c, h, w, o, groups, cg, og, kh, kw, oh, ow;
  int64_t kk() const { return kh * kw; }         // kernel taps
  int64_t l() const { return oh * ow; }          // output positions
  int64_t plane() const { return h * w + 1; }    // an input plane and its zero slot
  int64_t k_group() const { return cg * kk(); }  // the matmul's inner extent per group
};

ConvGeometry geometry(const Buf& x, const Buf& w, const Buf& y, const Conv2dParams& p) {
  return {x.shape[0], x.shape[1], x.shape[2], x.shape[3],
          w.shape[0], p.groups,   w.shape[1], w.shape[0] / p.groups,
          w.shape[2], w.shape[3], y.shape[2], y.shape[3]};
}

// For tap (ki, kj) and output position (i, j): the input element it reads within a plane, or
// the plane's zero slot (h * w) where the tap falls in the padding. Shape [KH * KW * OH * OW],
// the same for every (n, c), so it is handed over with zero strides there.
Buf tap_index(Scratch& scratch, const ConvGeometry& g, const Conv2dParams& p) {
  std::vector<int64_t> pos;
  pos.reserve(static_cast<size_t>(g.kk() * g.l()));
  for (int64_t ki = 0; ki < g.kh; ++ki) {
    for (int64_t kj = 0; kj < g.kw; ++kj) {
      for (int64_t i = 0; i < g.oh; ++i) {
        const int64_t hi = i * p.stride_h - p.pad_h + ki;
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t wj = j * p.stride_w - p.pad_w + kj;
          const bool inside = hi >= 0 && hi < g.h && wj >= 0 && wj < g.w;
          pos.push_back(inside ? hi * g.w + wj : g.h * g.w);
        }
      }
    }
  }
  return scratch.index(pos, {g.n, g.c, g.kk() * g.l()}, {0, 0, 1});
}

// The input planes with their zero slot, [N, C, H * W + 1]; `x` copied in when given.
Buf padded_planes(Backend& be, Scratch& scratch, const ConvGeometry& g, DType dt, const Buf* x) {
  const Buf ext = scratch.make(dt, {g.n, g.c, g.plane()});
  be.fill(ext, 0.0);
  if (x) be.copy(view(ext, {g.n, g.c, g.h, g.w}, {g.c * g.plane(), g.plane(), g.w, 1}), *x);
  return ext;
}

// im2col: columns [N, C, KH * KW, OH * OW] of `x`, i.e. per group [N, Cg * KH * KW, L].
Buf columns(Backend& be, Scratch& scratch, const ConvGeometry& g, const Buf& x,
            const Conv2dParams& p) {
  const Buf ext = padded_planes(be, scratch, g, x.dtype, &x);
  const Buf cols = scratch.make(x.dtype, {g.n, g.c, g.kk() * g.l()});
  be.gather(cols, ext, 2, tap_index(scratch, g, p));
  return cols;
}

// Group `grp`'s block of columns as a batch [N, Cg * KH * KW, L].
Buf group_columns(const Buf& cols, const ConvGeometry& g, int64_t grp) {
  return view(cols, {g.n, g.k_group(), g.l()}, {g.c * g.kk() * g.l(), g.l(), 1},
              grp * g.k_group() * g.l());
}
// Group `grp`'s rows of a [N, O, L] buffer (y or dy) as a batch [N, Og, L].
Buf group_rows(const Buf& b, const ConvGeometry& g, int64_t grp) {
  return view(b, {g.n, g.og, g.l()}, {g.o * g.l(), g.l(), 1}, grp * g.og * g.l());
}
// Group `grp`'s weights [Og, Cg * KH * KW], repeated over the batch.
Buf group_weights(const Buf& w, const ConvGeometry& g, int64_t grp) {
  return view(w, {g.n, g.og, g.k_group()}, {0, g.k_group(), 1}, grp * g.og * g.k_group());
}

}  // namespace

void Backend::conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
                     const Conv2dParams& p) {
  if (y.numel() == 0) return;
  const ConvGeometry g = geometry(x, w, y, p);
  Scratch scratch(*this);
  const Buf cols = columns(*this, scratch, g, x, p);
  const Buf y3 = reshaped(y, {g.n, g.o, g.l()});
  const Buf acc = bias ? scratch.make(y.dtype, y3.shape) : y3;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    if (g.groups == 1) {
      matmul(acc, group_weights(w, g, grp), group_columns(cols, g, grp), false, false);
      continue;
    }
    const Buf part = scratch.make(y.dtype, {g.n, g.og, g.l()});  // matmul's dst is contiguous
    matmul(part, group_weights(w, g, grp), group_columns(cols, g, grp), false, false);
    copy(group_rows(acc, g, grp), part);
  }
  if (bias) {
    const int64_t bs = bias->strides.empty() ? 1 : bias->strides[0];
    binary(BinaryOp::add, y3, acc, view(*bias, y3.shape, {0, bs, 0}));
  }
}

void Backend::conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                                   const Conv2dParams& p) {
  if (dx.numel() == 0) return;
  const ConvGeometry g = geometry(dx, w, dy, p);
  Scratch scratch(*this);
  const Buf dy3 = reshaped(dy, {g.n, g.o, g.l()});
  const Buf dcols = scratch.make(dx.dtype, {g.n, g.c, g.kk() * g.l()});
  if (dy.numel() == 0 || g.k_group() == 0) {
    fill(dcols, 0.0);
  } else {
    // Per group: dcols [N, Cg KK, L] = wᵀ [Cg KK, Og] · dy [N, Og, L].
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const Buf target = group_columns(dcols, g, grp);
      const Buf part = g.groups == 1 ? target : scratch.make(dx.dtype, target.shape);
      matmul(part, group_weights(w, g, grp), group_rows(dy3, g, grp), true, false);
      if (g.groups != 1) copy(target, part);
    }
  }
  // col2im: each column entry adds onto the input element it was read from.
  const Buf ext = padded_planes(*this, scratch, g, dx.dtype, nullptr);
  scatter_add(ext, 2, tap_index(scratch, g, p), dcols);
  copy(dx, view(ext, dx.shape, {g.c * g.plane(), g.plane(), g.w, 1}));
}

void Backend::conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy,
                                      const Conv2dParams& p) {
  const ConvGeometry g = geometry(x, dw, dy, p);
  Scratch scratch(*this);
  const Buf dy3 = reshaped(dy, {g.n, g.o, g.l()});
  if (dbias) reduce(ReduceOp::sum, view(*dbias, {1, g.o, 1}, {g.o, 1, 1}), dy3);
  if (dw.numel() == 0) return;
  if (dy.numel() == 0) {
    fill(dw, 0.0);
    return;
  }
  const Buf cols = columns(*this, scratch, g, x, p);
  // Per group: dw [Og, Cg KK] = sum over n of dy [Og, L] · colsᵀ [L, Cg KK].
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const Buf part = scratch.make(dw.dtype, {g.n, g.og, g.k_group()});
    matmul(part, group_rows(dy3, g, grp), group_columns(cols, g, grp), false, true);
    reduce(ReduceOp::sum, reshaped(dw, {1, g.og, g.k_group()}, grp * g.og * g.k_group()), part);
  }
}

}  // namespace diffvi
