// CUDA backend: memory, creation and random kernels, error reporting and registration.
// Must match: ReferenceBackend::copy / fill / random / arange (reference_backend.cpp); copy
// converts through scalar::convert and random draws through philox::uniform / philox::normal,
// the very functions the reference calls.
#include <string>

#include "diffvi/backends/cuda/cuda_backend.cuh"
#include "diffvi/tensor/philox.h"
#include "diffvi/tensor/scalar_math.h"

namespace diffvi::cuda {

void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear the sticky-free error so the next call does not report it again
  throw DeviceError(std::string("cuda backend: ") + call +
                    " failed: " + cudaGetErrorString(status));
}

void check_blas(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw DeviceError(std::string("cuda backend: ") + call +
                    " failed: " + cublasGetStatusString(status));
}

void reject_dtype(const std::string& kernel, DType dtype) {
  throw DTypeError(std::string("cuda backend: ") + kernel + " does not support dtype " +
                   dtype_name(dtype));
}

void* RawDeviceAllocator::allocate(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), ("cudaMalloc(" + std::to_string(bytes) + " bytes)").c_str());
  return p;
}

void RawDeviceAllocator::deallocate(void* ptr, size_t) {
  // At process exit the runtime may already be unloaded; the memory is gone with the context
  // then, and throwing from a destructor path would abort.
  const cudaError_t status = cudaFree(ptr);
  if (status != cudaSuccess) cudaGetLastError();
}

CudaBackend::CudaBackend() = default;

CudaBackend::~CudaBackend() {
  if (blas_ != nullptr) cublasDestroy(blas_);
}

cublasHandle_t CudaBackend::blas() {
  std::call_once(blas_once_, [this] {
    check_blas(cublasCreate(&blas_), "cublasCreate");
    // No TF32: results must stay within f32 tolerance of the reference.
    check_blas(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  });
  return blas_;
}

namespace {

template <class TD, class TS>
void copy_typed(const Buf& dst, const Buf& src) {
  const Indexer<2> ix = make_indexer<2>(dst.shape, {&dst.strides, &src.strides});
  TD* out = dst.ptr<TD>();
  const TS* in = src.ptr<TS>();
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        int64_t o[2];
        ix.offsets(i, o);
        out[o[0]] = scalar::convert<TD>(in[o[1]]);
      },
      "copy");
}

// Calls f(T{}) for the two dtypes the backend stores.
template <class F>
void visit_stored(DType dtype, const char* kernel, F&& f) {
  if (dtype == DType::f32) return f(float{});
  if (dtype == DType::i64) return f(int64_t{});
  reject_dtype(kernel, dtype);
}

template <class T>
void fill_typed(const Buf& dst, T value) {
  const Indexer<1> ix = make_indexer(dst);
  T* out = dst.ptr<T>();
  for_each_index(
      dst.numel(), [=] __device__(int64_t i) { out[ix.offset(i)] = value; }, "fill");
}

template <class T>
void arange_typed(const Buf& dst, double start, double step) {
  const Indexer<1> ix = make_indexer(dst);
  T* out = dst.ptr<T>();
  // start + i * step in double (not repeated addition), exactly as the reference.
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        // _rn intrinsics: nvcc would fuse this into an FMA, which rounds differently from the
        // host's separate multiply and add (and can flip an i64 truncation).
        out[ix.offset(i)] =
            scalar::convert<T>(__dadd_rn(start, __dmul_rn(static_cast<double>(i), step)));
      },
      "arange");
}

void random_f32(const Buf& dst, bool uniform, double a, double b, uint64_t seed, uint64_t offset) {
  const Indexer<1> ix = make_indexer(dst);
  float* out = dst.ptr<float>();
  // Element i (row-major) uses counter offset + i; the draw is computed in double and rounded
  // once, as on the CPU, so uniform streams are bit-identical.
  for_each_index(
      dst.numel(),
      [=] __device__(int64_t i) {
        const uint64_t k = static_cast<uint64_t>(i);
        // Unfused multiply and add, as on the host (see arange): the same double, hence the
        // same f32, for every element.
        const double v = uniform ? __dadd_rn(a, __dmul_rn(b - a, philox::uniform(seed, offset, k)))
                                 : __dadd_rn(a, __dmul_rn(b, philox::normal(seed, offset, k)));
        out[ix.offset(i)] = static_cast<float>(v);
      },
      "random");
}

}  // namespace

void CudaBackend::copy(const Buf& dst, const Buf& src) {
  visit_stored(dst.dtype, "copy", [&](auto d) {
    visit_stored(src.dtype, "copy",
                 [&](auto s) { copy_typed<decltype(d), decltype(s)>(dst, src); });
  });
}

void CudaBackend::copy_from_host(void* dst, const void* host_src, size_t bytes) {
  if (bytes != 0) check(cudaMemcpy(dst, host_src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}

void CudaBackend::copy_to_host(void* host_dst, const void* src, size_t bytes) {
  if (bytes != 0) check(cudaMemcpy(host_dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}

void CudaBackend::fill(const Buf& dst, double value) {
  visit_stored(dst.dtype, "fill", [&](auto t) {
    using T = decltype(t);
    fill_typed<T>(dst, scalar::convert<T>(value));
  });
}

void CudaBackend::random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
                         uint64_t offset) {
  require_f32("random", dst.dtype);
  random_f32(dst, dist == Distribution::uniform, a, b, seed, offset);
}

void CudaBackend::arange(const Buf& dst, double start, double step) {
  visit_stored(dst.dtype, "arange", [&](auto t) { arange_typed<decltype(t)>(dst, start, step); });
}

Buf CudaBackend::contiguous_copy(const Buf& b, std::unique_ptr<Storage>& storage) {
  storage = std::make_unique<Storage>(static_cast<size_t>(b.numel()) * dtype_size(b.dtype),
                                      Device::cuda(), caching_);
  Buf out{storage->data, b.dtype, b.shape, contiguous_strides(b.shape)};
  copy(out, b);
  return out;
}

namespace {

// Registers only when a device is present, so without one backend_for(cuda) raises the usual
// "no backend is available for device type cuda" DeviceError instead of failing on first use.
// Any failure here (no driver, no device, broken install) means "no device": static
// initialisation must never throw.
struct CudaRegistrar {
  CudaRegistrar() {
    try {
      int count = 0;
      if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        return;
      }
      static CudaBackend instance;
      register_backend(&instance, /*make_default=*/true);
    } catch (...) {
    }
  }
};
const CudaRegistrar registrar;

}  // namespace

}  // namespace diffvi::cuda
