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

  // Every kernel, fused ones included (conv2d: direct kernels, one thread per output element).
  DIFFVI_BACKEND_KERNELS(DIFFVI_DECLARE_OVERRIDE)

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
