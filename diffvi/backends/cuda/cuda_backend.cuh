// The CUDA backend: the kernel contract (tensor/backend.h) on device 0, f32 for math and i64 for
// indices. Every kernel is checked against the reference backend (tests/cuda); each .cu file
// names the reference function it must match, and the scalar formulas themselves are shared
// with the reference through backends/reference/scalar_math.h and tensor/philox.h.
//
// Everything runs on the legacy default stream, so kernels, cuBLAS calls and cudaMemcpy are
// ordered with each other and a freed block can be reused by the next kernel without a sync.
// Device::cuda(N) tensors all live on the current device (0): multi-GPU is not supported yet.
#pragma once

#include <cublas_v2.h>

#include <memory>
#include <mutex>

#include "diffvi/backends/cuda/cuda_common.cuh"
#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/storage.h"

namespace diffvi::cuda {

// cudaMalloc / cudaFree, wrapped by a CachingAllocator so training steps never reach them.
class RawDeviceAllocator : public Allocator {
 public:
  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
};

class CudaBackend : public Backend {
 public:
  CudaBackend();
  ~CudaBackend() override;
  const char* name() const override { return "cuda"; }
  DeviceType device_type() const override { return DeviceType::cuda; }
  // f64 is deliberately absent: consumer GPUs run it at 1/32-1/64 speed, and gradcheck and the
  // VI log-densities that need it run on the CPU.
  bool supports(DType dtype) const override { return dtype != DType::f64; }
  Allocator& allocator() override { return caching_; }

  DIFFVI_PRIMITIVE_KERNELS(DIFFVI_DECLARE_OVERRIDE)

  // The fused kernels it accelerates (today all of them).
  void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias, Activation act) override;
  // Direct kernels, one thread per output element (cuda_conv.cu).
  void conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
              const Conv2dParams& p) override;
  void conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                            const Conv2dParams& p) override;
  void conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy,
                               const Conv2dParams& p) override;
  void softmax(const Buf& dst, const Buf& x, bool log) override;
  void softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) override;
  void layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x, const Buf* gamma,
                  const Buf* beta, double eps) override;
  void layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy,
                           const Buf& x, const Buf& mean, const Buf& rstd,
                           const Buf* gamma) override;
  void adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) override;

  // The cuBLAS handle, created on first use (creating it costs ~100 ms and device memory).
  cublasHandle_t blas();
  // A contiguous device copy of `b` in `storage` (which must outlive the returned Buf).
  Buf contiguous_copy(const Buf& b, std::unique_ptr<Storage>& storage);

 private:
  RawDeviceAllocator raw_;
  CachingAllocator caching_{raw_};
  std::once_flag blas_once_;
  cublasHandle_t blas_ = nullptr;
};

// cuBLAS status -> DeviceError naming the call.
void check_blas(cublasStatus_t status, const char* call);

}  // namespace diffvi::cuda
