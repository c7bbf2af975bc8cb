// CUDA backend: row-wise softmax / log-softmax and layer norm, forward and backward.
// Must match: ReferenceBackend::softmax / softmax_backward / layer_norm / layer_norm_backward
// (reference_norm.cpp): same formulas (max-shifted softmax, two-pass variance, the rstd-form
// layer-norm gradient), one block per row with block reductions instead of a sequential loop.
#include <cmath>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/host_views.h"

namespace diffvi::cuda {

namespace {

// A small 1-D operand (gamma, mean, ...) read by logical index; `absent` when not given.
struct VecRef {
  float* data = nullptr;
  Indexer<1> ix;
  __device__ float get(int64_t i, float absent) const { return data ? data[ix.offset(i)] : absent; }
  __device__ void set(int64_t i, float v) const { data[ix.offset(i)] = v; }
};

VecRef vec_ref(const Buf* b) {
  VecRef v;
  if (b) {
    v.data = b->ptr<float>();
    v.ix = make_indexer(*b);
  }
  return v;
}

struct SumF {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct MaxF {
  // NaN wins from either side, so a NaN in the row makes the whole row NaN as in the reference.
  __device__ float operator()(float a, float b) const {
    return isnan(a) ? a : (isnan(b) || b > a ? b : a);
  }
};

unsigned grid_rows(int64_t rows) { return static_cast<unsigned>(rows < 65535 ? rows : 65535); }

__global__ void softmax_kernel(float* out, RowView vo, const float* in, RowView vi, bool log) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < vi.rows; r += gridDim.x) {
    float peak = -INFINITY;
    for (int64_t c = threadIdx.x; c < vi.cols; c += blockDim.x) {
      peak = MaxF{}(peak, in[r * vi.sr + c * vi.sc]);
    }
    peak = block_reduce(peak, MaxF{}, scratch);
    float total = 0.0f;
    for (int64_t c = threadIdx.x; c < vi.cols; c += blockDim.x) {
      total += expf(in[r * vi.sr + c * vi.sc] - peak);
    }
    total = block_reduce(total, SumF{}, scratch);
    const float log_total = logf(total);
    for (int64_t c = threadIdx.x; c < vi.cols; c += blockDim.x) {
      const float x = in[r * vi.sr + c * vi.sc];
      out[r * vo.sr + c * vo.sc] = log ? x - peak - log_total : expf(x - peak) / total;
    }
  }
}

// softmax: dx = y (dy - sum(dy y));  log-softmax: dx = dy - exp(y) sum(dy).
__global__ void softmax_backward_kernel(float* dx, RowView vdx, const float* y, RowView vy,
                                        const float* dy, RowView vdy, bool log) {
  __shared__ float scratch[32];
  for (int64_t r = blockIdx.x; r < vy.rows; r += gridDim.x) {
    float s = 0.0f;
    for (int64_t c = threadIdx.x; c < vy.cols; c += blockDim.x) {
      const float g = dy[r * vdy.sr + c * vdy.sc];
      s += log ? g : g * y[r * vy.sr + c * vy.sc];
    }
    s = block_reduce(s, SumF{}, scratch);
    for (int64_t c = threadIdx.x; c < vy.cols; c += blockDim.x) {
      const float g = dy[r * vdy.sr + c * vdy.sc], yv = y[r * vy.sr + c * vy.sc];
      dx[r * vdx.sr + c * vdx.sc] = log ? g - expf(yv) * s : yv * (g - s);
    }
  }
}

__global__ void layer_norm_kernel(float* y, RowView vy, VecRef mean, VecRef rstd, const float* x,
                                  RowView vx, VecRef gamma, VecRef beta, float eps) {
  __shared__ float scratch[32];
  const float inv_cols = 1.0f / static_cast<float>(vx.cols);
  for (int64_t r = blockIdx.x; r < vx.rows; r += gridDim.x) {
    // Two passes (mean, then squared deviations): no cancellation from E[x^2] - E[x]^2.
    float mu = 0.0f;
    for (int64_t c = threadIdx.x; c < vx.cols; c += blockDim.x) mu += x[r * vx.sr + c * vx.sc];
    mu = block_reduce(mu, SumF{}, scratch) * inv_cols;
    float var = 0.0f;
    for (int64_t c = threadIdx.x; c < vx.cols; c += blockDim.x) {
      const float d = x[r * vx.sr + c * vx.sc] - mu;
      var += d * d;
    }
    var = block_reduce(var, SumF{}, scratch) * inv_cols;
    const float rs = 1.0f / sqrtf(var + eps);
    for (int64_t c = threadIdx.x; c < vx.cols; c += blockDim.x) {
      const float xh = (x[r * vx.sr + c * vx.sc] - mu) * rs;
      y[r * vy.sr + c * vy.sc] = xh * gamma.get(c, 1.0f) + beta.get(c, 0.0f);
    }
    if (threadIdx.x == 0) {
      mean.set(r, mu);
      rstd.set(r, rs);
    }
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), with xhat = (x - mu) rstd, g = dy * gamma.
__global__ void layer_norm_dx_kernel(float* dx, RowView vdx, const float* dy, RowView vdy,
                                     const float* x, RowView vx, VecRef mean, VecRef rstd,
                                     VecRef gamma) {
  __shared__ float scratch[32];
  const float inv_cols = 1.0f / static_cast<float>(vx.cols);
  for (int64_t r = blockIdx.x; r < vx.rows; r += gridDim.x) {
    const float mu = mean.get(r, 0.0f), rs = rstd.get(r, 1.0f);
    float sum_g = 0.0f, sum_gx = 0.0f;
    for (int64_t c = threadIdx.x; c < vx.cols; c += blockDim.x) {
      const float g = dy[r * vdy.sr + c * vdy.sc] * gamma.get(c, 1.0f);
      sum_g += g;
      sum_gx += g * (x[r * vx.sr + c * vx.sc] - mu) * rs;
    }
    const float mean_g = block_reduce(sum_g, SumF{}, scratch) * inv_cols;
    const float mean_gx = block_reduce(sum_gx, SumF{}, scratch) * inv_cols;
    for (int64_t c = threadIdx.x; c < vx.cols; c += blockDim.x) {
      const float g = dy[r * vdy.sr + c * vdy.sc] * gamma.get(c, 1.0f);
      const float xh = (x[r * vx.sr + c * vx.sc] - mu) * rs;
      dx[r * vdx.sr + c * vdx.sc] = rs * (g - mean_g - xh * mean_gx);
    }
  }
}

// dgamma[c] = sum_r dy * xhat, dbeta[c] = sum_r dy: one thread per column, rows in order
// (deterministic; consecutive threads read consecutive columns).
__global__ void layer_norm_dparams_kernel(VecRef dgamma, VecRef dbeta, const float* dy, RowView vdy,
                                          const float* x, RowView vx, VecRef mean, VecRef rstd) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < vx.cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float dg = 0.0f, db = 0.0f;
    for (int64_t r = 0; r < vx.rows; ++r) {
      const float d = dy[r * vdy.sr + c * vdy.sc];
      dg += d * (x[r * vx.sr + c * vx.sc] - mean.get(r, 0.0f)) * rstd.get(r, 1.0f);
      db += d;
    }
    if (dgamma.data) dgamma.set(c, dg);
    if (dbeta.data) dbeta.set(c, db);
  }
}

}  // namespace

void CudaBackend::softmax(const Buf& dst, const Buf& x, bool log) {
  require_f32(log ? "log_softmax" : "softmax", x.dtype);
  const RowView vx = row_view(x), vd = row_view(dst);
  if (vx.rows * vx.cols == 0) return;
  softmax_kernel<<<grid_rows(vx.rows), row_threads(vx.cols)>>>(dst.ptr<float>(), vd, x.ptr<float>(),
                                                               vx, log);
  check_launch("softmax");
}

void CudaBackend::softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) {
  require_f32(log ? "log_softmax_backward" : "softmax_backward", y.dtype);
  const RowView vdx = row_view(dx), vy = row_view(y), vdy = row_view(dy);
  if (vy.rows * vy.cols == 0) return;
  softmax_backward_kernel<<<grid_rows(vy.rows), row_threads(vy.cols)>>>(
      dx.ptr<float>(), vdx, y.ptr<float>(), vy, dy.ptr<float>(), vdy, log);
  check_launch("softmax_backward");
}

void CudaBackend::layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                             const Buf* gamma, const Buf* beta, double eps) {
  require_f32("layer_norm", x.dtype);
  const RowView vx = row_view(x), vy = row_view(y);
  if (vx.rows == 0) return;
  layer_norm_kernel<<<grid_rows(vx.rows), row_threads(vx.cols)>>>(
      y.ptr<float>(), vy, vec_ref(&mean), vec_ref(&rstd), x.ptr<float>(), vx, vec_ref(gamma),
      vec_ref(beta), static_cast<float>(eps));
  check_launch("layer_norm");
}

void CudaBackend::layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta,
                                      const Buf& dy, const Buf& x, const Buf& mean, const Buf& rstd,
                                      const Buf* gamma) {
  require_f32("layer_norm_backward", x.dtype);
  const RowView vdx = row_view(dx), vdy = row_view(dy), vx = row_view(x);
  if (vx.rows > 0) {
    layer_norm_dx_kernel<<<grid_rows(vx.rows), row_threads(vx.cols)>>>(
        dx.ptr<float>(), vdx, dy.ptr<float>(), vdy, x.ptr<float>(), vx, vec_ref(&mean),
        vec_ref(&rstd), vec_ref(gamma));
    check_launch("layer_norm_backward(dx)");
  }
  if ((dgamma || dbeta) && vx.cols > 0) {
    layer_norm_dparams_kernel<<<grid_for(vx.cols), kThreads>>>(vec_ref(dgamma), vec_ref(dbeta),
                                                               dy.ptr<float>(), vdy, x.ptr<float>(),
                                                               vx, vec_ref(&mean), vec_ref(&rstd));
    check_launch("layer_norm_backward(dgamma, dbeta)");
  }
}

}  // namespace diffvi::cuda
