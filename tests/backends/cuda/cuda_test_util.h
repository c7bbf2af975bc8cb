// Shared by the CUDA tests: a fixture that skips (saying why) when no device is present, and
// helpers that run the same computation on the reference backend (the oracle, on the host) and
// on the CUDA backend (inputs moved with to(Device::cuda())) and compare.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "test_util.h"

namespace cudatest {

using diffvi::Device;
using diffvi::Tensor;

// Empty when a device is usable, else why not (e.g. "cudaGetDeviceCount: no CUDA-capable
// device is detected").
inline std::string no_device_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    return std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
  }
  if (count == 0) return "cudaGetDeviceCount reports 0 devices";
  return "";
}

// Every device test derives from this: without a GPU the whole suite skips cleanly.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = no_device_reason();
    if (!why.empty()) GTEST_SKIP() << "no CUDA device: " << why;
  }
};

inline Tensor to_cuda(const Tensor& t) { return diffvi::raw::to(t, Device::cuda()); }
inline Tensor to_host(const Tensor& t) { return diffvi::raw::to(t, Device::cpu()); }

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// f on the reference backend (host inputs) and on CUDA (device copies of the inputs); the CUDA
// result, brought back, must be within tolerance of the oracle.
inline ::testing::AssertionResult MatchesReference(const Fn& f, const std::vector<Tensor>& inputs,
                                                   double rtol = 1e-5, double atol = 1e-5) {
  Tensor ref;
  {
    diffvi::BackendGuard guard("reference");
    ref = f(inputs);
  }
  std::vector<Tensor> device_inputs;
  for (const Tensor& t : inputs) device_inputs.push_back(to_cuda(t));
  Tensor out = f(device_inputs);
  if (out.device() != Device::cuda()) {
    return ::testing::AssertionFailure() << "result is on " << out.device().str();
  }
  return testutil::AllClose(to_host(out), ref, rtol, atol);
}

// Same, for kernels that return several tensors (gradients): compares each.
using MultiFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
inline ::testing::AssertionResult AllMatchReference(const MultiFn& f,
                                                    const std::vector<Tensor>& inputs,
                                                    double rtol = 1e-5, double atol = 1e-5) {
  std::vector<Tensor> ref;
  {
    diffvi::BackendGuard guard("reference");
    ref = f(inputs);
  }
  std::vector<Tensor> device_inputs;
  for (const Tensor& t : inputs) device_inputs.push_back(to_cuda(t));
  std::vector<Tensor> out = f(device_inputs);
  for (size_t i = 0; i < ref.size(); ++i) {
    ::testing::AssertionResult r = testutil::AllClose(to_host(out[i]), ref[i], rtol, atol);
    if (!r) return ::testing::AssertionFailure() << "output " << i << ": " << r.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace cudatest
