// Reference backend: 2-D convolution (NCHW) forward, backward-data and backward-weights as direct
// loops over every output/input/weight element, accumulating in double. Every buffer is indexed
// through its own strides, so the kernels are correct for any layout the tensor layer hands over.
#include <string>

#include "diffvi/backends/reference/reference_backend.h"
#include "diffvi/backends/reference/strided_loop.h"

namespace diffvi {
namespace {

// A 4-D buffer indexed as at(a, b, c, d) through its strides.
template <class T>
struct View4 {
  T* data;
  int64_t s0, s1, s2, s3;
  explicit View4(const Buf& b)
      : data(b.ptr<T>()), s0(b.strides[0]), s1(b.strides[1]), s2(b.strides[2]), s3(b.strides[3]) {}
  T& at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return data[a * s0 + b * s1 + c * s2 + d * s3];
  }
};

// The sizes every kernel loops over, read from x [N, C, H, W], w [O, C/G, KH, KW] and
// y [N, O, OH, OW].
struct Geometry {
  int64_t n, c, h, w, o, cg, kh, kw, oh, ow, og;
};

Geometry geometry(const char* kernel, const Buf& x, const Buf& w, const Buf& y,
                  const Conv2dParams& p) {
  if (x.ndim() != 4 || w.ndim() != 4 || y.ndim() != 4 || p.groups < 1) {
    throw ShapeError(std::string("reference backend: ") + kernel + " needs 4-D x, w and y, got " +
                     shape_str(x.shape) + ", " + shape_str(w.shape) + ", " + shape_str(y.shape));
  }
  strided::require_floating(kernel, x.dtype);
  const Geometry g{x.shape[0], x.shape[1], x.shape[2], x.shape[3], w.shape[0],           w.shape[1],
                   w.shape[2], w.shape[3], y.shape[2], y.shape[3], w.shape[0] / p.groups};
  if (g.c != g.cg * p.groups || g.o != g.og * p.groups || y.shape[0] != g.n || y.shape[1] != g.o) {
    throw ShapeError(std::string("reference backend: ") + kernel + " with x " + shape_str(x.shape) +
                     ", w " + shape_str(w.shape) + ", y " + shape_str(y.shape) + " and groups " +
                     std::to_string(p.groups));
  }
  return g;
}

}  // namespace

void ReferenceBackend::conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
                              const Conv2dParams& p) {
  const Geometry g = geometry("conv2d", x, w, y, p);
  visit_floating(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const View4<T> xv(x), wv(w), yv(y);
    const std::vector<int64_t> boff = bias ? strided::offsets(*bias) : std::vector<int64_t>{};
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t o = 0; o < g.o; ++o) {
        const int64_t c0 = (o / g.og) * g.cg;  // first input channel of o's group
        for (int64_t i = 0; i < g.oh; ++i) {
          for (int64_t j = 0; j < g.ow; ++j) {
            double acc = bias ? static_cast<double>(bias->ptr<T>()[boff[o]]) : 0.0;
            for (int64_t c = 0; c < g.cg; ++c) {
              for (int64_t ki = 0; ki < g.kh; ++ki) {
                const int64_t hi = i * p.stride_h - p.pad_h + ki;
                if (hi < 0 || hi >= g.h) continue;
                for (int64_t kj = 0; kj < g.kw; ++kj) {
                  const int64_t wj = j * p.stride_w - p.pad_w + kj;
                  if (wj < 0 || wj >= g.w) continue;
                  acc += static_cast<double>(xv.at(n, c0 + c, hi, wj)) *
                         static_cast<double>(wv.at(o, c, ki, kj));
                }
              }
            }
            yv.at(n, o, i, j) = static_cast<T>(acc);
          }
        }
      }
    }
  });
}

void ReferenceBackend::conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                                            const Conv2dParams& p) {
  const Geometry g = geometry("conv2d_backward_data", dx, w, dy, p);
  visit_floating(dx.dtype, [&](auto tag) {
    using T = decltype(tag);
    const View4<T> dxv(dx), dyv(dy), wv(w);
    // dx[n, c, hi, wj] gathers every (o, i, j, ki, kj) with i·stride − pad + ki = hi (and the
    // same along w).
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t c = 0; c < g.c; ++c) {
        const int64_t grp = c / g.cg, cl = c % g.cg;
        for (int64_t hi = 0; hi < g.h; ++hi) {
          for (int64_t wj = 0; wj < g.w; ++wj) {
            double acc = 0.0;
            for (int64_t o = grp * g.og; o < (grp + 1) * g.og; ++o) {
              for (int64_t ki = 0; ki < g.kh; ++ki) {
                const int64_t ti = hi + p.pad_h - ki;
                if (ti < 0 || ti % p.stride_h != 0 || ti / p.stride_h >= g.oh) continue;
                for (int64_t kj = 0; kj < g.kw; ++kj) {
                  const int64_t tj = wj + p.pad_w - kj;
                  if (tj < 0 || tj % p.stride_w != 0 || tj / p.stride_w >= g.ow) continue;
                  acc += static_cast<double>(dyv.at(n, o, ti / p.stride_h, tj / p.stride_w)) *
                         static_cast<double>(wv.at(o, cl, ki, kj));
                }
              }
            }
            dxv.at(n, c, hi, wj) = static_cast<T>(acc);
          }
        }
      }
    }
  });
}

void ReferenceBackend::conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x,
                                               const Buf& dy, const Conv2dParams& p) {
  const Geometry g = geometry("conv2d_backward_weights", x, dw, dy, p);
  visit_floating(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const View4<T> xv(x), dyv(dy), dwv(dw);
    for (int64_t o = 0; o < g.o; ++o) {
      const int64_t c0 = (o / g.og) * g.cg;
      for (int64_t c = 0; c < g.cg; ++c) {
        for (int64_t ki = 0; ki < g.kh; ++ki) {
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            double acc = 0.0;
            for (int64_t n = 0; n < g.n; ++n) {
              for (int64_t i = 0; i < g.oh; ++i) {
                const int64_t hi = i * p.stride_h - p.pad_h + ki;
                if (hi < 0 || hi >= g.h) continue;
                for (int64_t j = 0; j < g.ow; ++j) {
                  const int64_t wj = j * p.stride_w - p.pad_w + kj;
                  if (wj < 0 || wj >= g.w) continue;
                  acc += static_cast<double>(xv.at(n, c0 + c, hi, wj)) *
                         static_cast<double>(dyv.at(n, o, i, j));
                }
              }
            }
            dwv.at(o, c, ki, kj) = static_cast<T>(acc);
          }
        }
      }
    }
    if (!dbias) return;
    const std::vector<int64_t> boff = strided::offsets(*dbias);
    for (int64_t o = 0; o < g.o; ++o) {
      double acc = 0.0;
      for (int64_t n = 0; n < g.n; ++n) {
        for (int64_t i = 0; i < g.oh; ++i) {
          for (int64_t j = 0; j < g.ow; ++j) acc += static_cast<double>(dyv.at(n, o, i, j));
        }
      }
      dbias->ptr<T>()[boff[o]] = static_cast<T>(acc);
    }
  });
}

}  // namespace diffvi
