// CUDA backend: registration without a device, dtype support, host <-> device copies, strided
// copies with dtype conversion, fill, arange and the Philox streams (identical to the CPU's).
// Kernel parity with the reference is the op-parity table's (tests/backends), which runs every
// row on CUDA when a device is present.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"

namespace {

using cudatest::CudaTest;
using cudatest::MatchesReference;
using cudatest::to_cuda;
using cudatest::to_host;
using diffvi::Device;
using diffvi::DType;
using diffvi::Tensor;
using diffvi::TensorOptions;

const TensorOptions kOnCuda = TensorOptions(DType::f32).set_device(Device::cuda());

// The one test that runs without a GPU: the backend must stay unregistered, so asking for the
// device is the usual DeviceError rather than a crash or a CUDA error at first use.
TEST(CudaNoDevice, BackendIsAbsentAndSaysWhy) {
  if (cudatest::no_device_reason().empty()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(diffvi::find_backend("cuda"), nullptr);
  try {
    diffvi::backend_for(diffvi::DeviceType::cuda);
    FAIL() << "backend_for(cuda) did not throw";
  } catch (const diffvi::DeviceError& e) {
    EXPECT_NE(std::string(e.what()).find("no backend is available for device type cuda"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(diffvi::zeros({2, 3}, kOnCuda), diffvi::DeviceError);
}

TEST_F(CudaTest, RegisteredAsTheCudaDefault) {
  diffvi::Backend& b = diffvi::backend_for(diffvi::DeviceType::cuda);
  EXPECT_STREQ(b.name(), "cuda");
  EXPECT_TRUE(b.supports(DType::f32));
  EXPECT_TRUE(b.supports(DType::i64));
  EXPECT_FALSE(b.supports(DType::f64));
}

// The tensor layer keeps i64 out of arithmetic; the kernel itself must refuse i64 division
// (the i64 ring ops are rows of the op-parity table, tests/backends).
TEST_F(CudaTest, I64DivisionIsADTypeError) {
  const Tensor x = to_cuda(diffvi::from_vector(std::vector<int64_t>{4, 6}, {2}));
  const Tensor out = diffvi::empty({2}, TensorOptions(DType::i64).set_device(Device::cuda()));
  EXPECT_THROW(diffvi::backend_for(diffvi::DeviceType::cuda)
                   .binary(diffvi::BinaryOp::div, out.buf(), x.buf(), x.buf()),
               diffvi::DTypeError);
}

TEST_F(CudaTest, F64IsADTypeError) {
  EXPECT_THROW(diffvi::zeros({2}, TensorOptions(DType::f64).set_device(Device::cuda())),
               diffvi::DTypeError);
  const Tensor x = to_cuda(testutil::Uniform({3}, 1));
  EXPECT_THROW(diffvi::raw::to(x, DType::f64), diffvi::DTypeError);
}

TEST_F(CudaTest, HostRoundTripIsExact) {
  for (DType dt : {DType::f32, DType::i64}) {
    const Tensor x = diffvi::raw::to(testutil::Uniform({5, 7}, 2, DType::f32, -50, 50), dt);
    const Tensor y = to_cuda(x);
    EXPECT_EQ(y.device(), Device::cuda());
    EXPECT_TRUE(testutil::Equal(to_host(y), x));
  }
}

TEST_F(CudaTest, StridedCopyWithConversion) {
  const Tensor x = testutil::Uniform({4, 6, 3}, 3, DType::f32, -100, 100);
  for (DType to : {DType::f32, DType::i64}) {
    EXPECT_TRUE(MatchesReference(
        [to](const std::vector<Tensor>& in) {
          const Tensor v = diffvi::raw::slice(diffvi::raw::permute(in[0], {2, 0, 1}), 2, 1, 6, 2);
          return diffvi::raw::contiguous(diffvi::raw::to(v, to));
        },
        {x}, 0, 0));
    // Into a strided destination, with broadcasting.
    EXPECT_TRUE(MatchesReference(
        [to](const std::vector<Tensor>& in) {
          Tensor dst = diffvi::zeros({6, 4}, TensorOptions(to).set_device(in[0].device()));
          const Tensor row = diffvi::raw::squeeze(diffvi::raw::slice(in[0], 0, 1, 2), 0);  // [6, 3]
          const Tensor col = diffvi::raw::slice(row, 1, 2, 3);                             // [6, 1]
          diffvi::raw::copy_(diffvi::raw::transpose(dst, 0, 1),
                             diffvi::raw::transpose(col, 0, 1));  // [1, 6] broadcast to [4, 6]
          return dst;
        },
        {x}, 0, 0));
  }
}

TEST_F(CudaTest, FillAndArange) {
  for (DType dt : {DType::f32, DType::i64}) {
    EXPECT_TRUE(MatchesReference(
        [dt](const std::vector<Tensor>& in) {
          Tensor t = diffvi::zeros({5, 4}, TensorOptions(dt).set_device(in[0].device()));
          diffvi::raw::fill_(diffvi::raw::slice(t, 1, 1, 4, 2), -3.75);
          return t;
        },
        {testutil::Uniform({1}, 4)}, 0, 0));
    EXPECT_TRUE(MatchesReference(
        [dt](const std::vector<Tensor>& in) {
          return diffvi::arange(-2.5, 40.0, 0.75, TensorOptions(dt).set_device(in[0].device()));
        },
        {testutil::Uniform({1}, 5)}, 0, 0));
  }
}

// The point of a counter-based generator: the same (seed, offset) gives the same stream on
// every device. Uniform draws are exact integer math, so they are bit-identical; normal draws
// go through log/cos/sqrt in double, which may differ in the last bit of a double but not once
// rounded to f32 (allow one f32 ulp anyway).
TEST_F(CudaTest, PhiloxStreamsMatchTheCpu) {
  for (uint64_t seed : {0ull, 7ull, 0x5eedull, ~0ull}) {
    diffvi::Generator host_gen(seed), device_gen(seed);
    host_gen.advance(1000);
    device_gen.advance(1000);
    const Tensor u_host = diffvi::uniform({257, 3}, -2, 5, host_gen);
    const Tensor u_dev = diffvi::uniform({257, 3}, -2, 5, device_gen, kOnCuda);
    EXPECT_TRUE(testutil::Equal(to_host(u_dev), u_host)) << "seed " << seed;
    const Tensor n_host = diffvi::normal({1001}, 1.5, 2, host_gen);
    const Tensor n_dev = diffvi::normal({1001}, 1.5, 2, device_gen, kOnCuda);
    EXPECT_TRUE(testutil::AllClose(to_host(n_dev), n_host, 2e-7, 1e-7)) << "seed " << seed;
    EXPECT_EQ(host_gen.offset(), device_gen.offset());
  }
}

// The kernel itself on a strided destination: element i in row-major order uses counter
// offset + i whatever the layout.
TEST_F(CudaTest, RandomKernelOnStridedDestination) {
  diffvi::Backend& cuda = *diffvi::find_backend("cuda");
  diffvi::Backend& ref = *diffvi::find_backend("reference");
  for (diffvi::Distribution dist : {diffvi::Distribution::uniform, diffvi::Distribution::normal}) {
    Tensor host = diffvi::zeros({6, 5});
    Tensor dev = to_cuda(host);
    ref.random(diffvi::raw::transpose(host, 0, 1).buf(), dist, 0.5, 2.0, 99, 12345);
    cuda.random(diffvi::raw::transpose(dev, 0, 1).buf(), dist, 0.5, 2.0, 99, 12345);
    EXPECT_TRUE(testutil::AllClose(to_host(dev), host, 2e-7, 0));
  }
}

// Freed device blocks are reused rather than returned to cudaMalloc.
TEST_F(CudaTest, CachingAllocatorReusesBlocks) {
  auto& alloc = dynamic_cast<diffvi::CachingAllocator&>(
      diffvi::backend_for(diffvi::DeviceType::cuda).allocator());
  { Tensor warm = diffvi::zeros({1000}, kOnCuda); }
  const size_t raw_before = alloc.stats().num_raw_allocs;
  for (int i = 0; i < 10; ++i) Tensor t = diffvi::zeros({1000}, kOnCuda);
  EXPECT_EQ(alloc.stats().num_raw_allocs, raw_before);
  alloc.empty_cache();
  EXPECT_EQ(alloc.stats().bytes_cached, 0u);
}

}  // namespace
