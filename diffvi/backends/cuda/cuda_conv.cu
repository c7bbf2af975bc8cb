// CUDA backend: 2-D convolution (NCHW) forward, backward-data and backward-weights as direct
// kernels, one thread per output element (a gather, so no atomics and a deterministic result).
// Must match: ReferenceBackend::conv2d, ReferenceBackend::conv2d_backward_data and
// ReferenceBackend::conv2d_backward_weights (reference_conv.cpp), loop for loop; the reference
// accumulates in double, these kernels in float. The contract guarantees contiguous buffers.
#include "diffvi/backends/cuda/cuda_backend.cuh"

namespace diffvi::cuda {
namespace {

// x [N, C, H, W], w [O, C/G, KH, KW], y [N, O, OH, OW] and the convolution's parameters, by value.
struct ConvDims {
  int64_t n, c, h, w, o, cg, kh, kw, oh, ow, og;
  int64_t stride_h, stride_w, pad_h, pad_w;
};

ConvDims conv_dims(const char* kernel, const Buf& x, const Buf& w, const Buf& y,
                   const Conv2dParams& p) {
  require_f32(kernel, x.dtype);
  if (x.ndim() != 4 || w.ndim() != 4 || y.ndim() != 4 || p.groups < 1) {
    throw ShapeError(std::string("cuda backend: ") + kernel + " needs 4-D x, w and y, got " +
                     shape_str(x.shape) + ", " + shape_str(w.shape) + ", " + shape_str(y.shape));
  }
  return {x.shape[0],
          x.shape[1],
          x.shape[2],
          x.shape[3],
          w.shape[0],
          w.shape[1],
          w.shape[2],
          w.shape[3],
          y.shape[2],
          y.shape[3],
          w.shape[0] / p.groups,
          p.stride_h,
          p.stride_w,
          p.pad_h,
          p.pad_w};
}

}  // namespace

void CudaBackend::conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
                         const Conv2dParams& p) {
  const ConvDims d = conv_dims("conv2d", x, w, y, p);
  const float* xp = x.ptr<float>();
  const float* wp = w.ptr<float>();
  const float* bp = bias ? bias->ptr<float>() : nullptr;
  const int64_t bstride = bias ? bias->strides[0] : 0;
  float* yp = y.ptr<float>();
  for_each_index(
      y.numel(),
      [=] __device__(int64_t idx) {
        const int64_t j = idx % d.ow, i = (idx / d.ow) % d.oh;
        const int64_t o = (idx / (d.ow * d.oh)) % d.o, n = idx / (d.ow * d.oh * d.o);
        const int64_t c0 = (o / d.og) * d.cg;
        float acc = bp ? bp[o * bstride] : 0.f;
        for (int64_t c = 0; c < d.cg; ++c) {
          for (int64_t ki = 0; ki < d.kh; ++ki) {
            const int64_t hi = i * d.stride_h - d.pad_h + ki;
            if (hi < 0 || hi >= d.h) continue;
            for (int64_t kj = 0; kj < d.kw; ++kj) {
              const int64_t wj = j * d.stride_w - d.pad_w + kj;
              if (wj < 0 || wj >= d.w) continue;
              acc += xp[((n * d.c + c0 + c) * d.h + hi) * d.w + wj] *
                     wp[((o * d.cg + c) * d.kh + ki) * d.kw + kj];
            }
          }
        }
        yp[idx] = acc;
      },
      "conv2d");
}

void CudaBackend::conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                                       const Conv2dParams& p) {
  const ConvDims d = conv_dims("conv2d_backward_data", dx, w, dy, p);
  const float* dyp = dy.ptr<float>();
  const float* wp = w.ptr<float>();
  float* dxp = dx.ptr<float>();
  for_each_index(
      dx.numel(),
      [=] __device__(int64_t idx) {
        const int64_t wj = idx % d.w, hi = (idx / d.w) % d.h;
        const int64_t c = (idx / (d.w * d.h)) % d.c, n = idx / (d.w * d.h * d.c);
        const int64_t grp = c / d.cg, cl = c % d.cg;
        float acc = 0.f;
        for (int64_t o = grp * d.og; o < (grp + 1) * d.og; ++o) {
          for (int64_t ki = 0; ki < d.kh; ++ki) {
            const int64_t ti = hi + d.pad_h - ki;
            if (ti < 0 || ti % d.stride_h != 0 || ti / d.stride_h >= d.oh) continue;
            for (int64_t kj = 0; kj < d.kw; ++kj) {
              const int64_t tj = wj + d.pad_w - kj;
              if (tj < 0 || tj % d.stride_w != 0 || tj / d.stride_w >= d.ow) continue;
              acc += dyp[((n * d.o + o) * d.oh + ti / d.stride_h) * d.ow + tj / d.stride_w] *
                     wp[((o * d.cg + cl) * d.kh + ki) * d.kw + kj];
            }
          }
        }
        dxp[idx] = acc;
      },
      "conv2d_backward_data");
}

void CudaBackend::conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x,
                                          const Buf& dy, const Conv2dParams& p) {
  const ConvDims d = conv_dims("conv2d_backward_weights", x, dw, dy, p);
  const float* xp = x.ptr<float>();
  const float* dyp = dy.ptr<float>();
  float* dwp = dw.ptr<float>();
  for_each_index(
      dw.numel(),
      [=] __device__(int64_t idx) {
        const int64_t kj = idx % d.kw, ki = (idx / d.kw) % d.kh;
        const int64_t c = (idx / (d.kw * d.kh)) % d.cg, o = idx / (d.kw * d.kh * d.cg);
        const int64_t c0 = (o / d.og) * d.cg;
        float acc = 0.f;
        for (int64_t n = 0; n < d.n; ++n) {
          for (int64_t i = 0; i < d.oh; ++i) {
            const int64_t hi = i * d.stride_h - d.pad_h + ki;
            if (hi < 0 || hi >= d.h) continue;
            for (int64_t j = 0; j < d.ow; ++j) {
              const int64_t wj = j * d.stride_w - d.pad_w + kj;
              if (wj < 0 || wj >= d.w) continue;
              acc += xp[((n * d.c + c0 + c) * d.h + hi) * d.w + wj] *
                     dyp[((n * d.o + o) * d.oh + i) * d.ow + j];
            }
          }
        }
        dwp[idx] = acc;
      },
      "conv2d_backward_weights");
  if (!dbias) return;
  float* dbp = dbias->ptr<float>();
  const int64_t bstride = dbias->strides[0];
  for_each_index(
      d.o,
      [=] __device__(int64_t o) {
        float acc = 0.f;
        for (int64_t n = 0; n < d.n; ++n) {
          const float* row = dyp + (n * d.o + o) * d.oh * d.ow;
          for (int64_t k = 0; k < d.oh * d.ow; ++k) acc += row[k];
        }
        dbp[o * bstride] = acc;
      },
      "conv2d_backward_bias");
}

}  // namespace diffvi::cuda
