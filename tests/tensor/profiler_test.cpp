// KernelProfiler: tallies each kernel call by entry point, op and output shape, for the calling
// thread only while alive, and leaves the active backend as it found it.
#include "diffvi/tensor/profiler.h"

#include <gtest/gtest.h>

#include <thread>

#include "test_util.h"

using diffvi::DType;
using diffvi::KernelProfiler;
using diffvi::Tensor;

namespace {

const KernelProfiler::Entry* Find(const std::vector<KernelProfiler::Entry>& entries,
                                  const std::string& kernel) {
  for (const auto& e : entries) {
    if (e.kernel == kernel) return &e;
  }
  return nullptr;
}

}  // namespace

TEST(KernelProfiler, CountsEachKernelByOpAndShape) {
  const Tensor a = testutil::Uniform({2, 3}, 1), b = testutil::Uniform({2, 3}, 2);
  const Tensor m = testutil::Uniform({3, 4}, 3);
  KernelProfiler profiler;
  for (int i = 0; i < 3; ++i) diffvi::raw::binary(diffvi::BinaryOp::add, a, b);
  diffvi::raw::binary(diffvi::BinaryOp::mul, a, b);
  diffvi::raw::matmul(a, m);
  const auto entries = profiler.entries();
  const auto* add = Find(entries, "binary add f32[2, 3]");
  ASSERT_NE(add, nullptr) << profiler.table();
  EXPECT_EQ(add->calls, 3);
  const auto* mul = Find(entries, "binary mul f32[2, 3]");
  ASSERT_NE(mul, nullptr) << profiler.table();
  EXPECT_EQ(mul->calls, 1);
  const auto* mm = Find(entries, "matmul K=3 -> f32[1, 2, 4]");
  ASSERT_NE(mm, nullptr) << profiler.table();
  EXPECT_EQ(mm->calls, 1);
  double sum = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_GE(entries[i].total_ms, 0.0);
    if (i > 0) EXPECT_LE(entries[i].total_ms, entries[i - 1].total_ms);  // largest first
    sum += entries[i].total_ms;
  }
  EXPECT_DOUBLE_EQ(profiler.total_ms(), sum);
  // The table lists every kernel, per call of the profiled block when asked.
  const std::string table = profiler.table(3);
  EXPECT_NE(table.find("binary add f32[2, 3]"), std::string::npos);
  const size_t add_line = table.rfind('\n', table.find("binary add f32[2, 3]"));
  EXPECT_NE(table.substr(add_line, table.find("binary add") - add_line).find(" 1.00 "),
            std::string::npos)
      << table;  // 3 adds per 3 calls of the block
  EXPECT_NE(table.find("all kernels"), std::string::npos);
  profiler.reset();
  EXPECT_TRUE(profiler.entries().empty());
  EXPECT_THROW(profiler.table(0), diffvi::ValueError);
}

TEST(KernelProfiler, ResultsAreUnchangedAndTheBackendIsRestored) {
  diffvi::Backend* before = &diffvi::backend_for(diffvi::DeviceType::cpu);
  const Tensor x = testutil::Uniform({5, 7}, 4);
  const Tensor plain = diffvi::gelu(x);
  Tensor profiled;
  {
    KernelProfiler profiler;
    EXPECT_STREQ(diffvi::backend_for(diffvi::DeviceType::cpu).name(), before->name());
    profiled = diffvi::gelu(x);
    EXPECT_NE(Find(profiler.entries(), "unary gelu_erf f32[5, 7]"), nullptr) << profiler.table();
  }
  EXPECT_EQ(&diffvi::backend_for(diffvi::DeviceType::cpu), before);
  EXPECT_TRUE(testutil::AllClose(profiled, plain, 0, 0));
}

TEST(KernelProfiler, OtherThreadsAreNotProfiled) {
  KernelProfiler profiler;
  std::thread other([] {
    const Tensor a = testutil::Uniform({4}, 5);
    diffvi::raw::binary(diffvi::BinaryOp::sub, a, a);
  });
  other.join();
  EXPECT_EQ(Find(profiler.entries(), "binary sub f32[4]"), nullptr) << profiler.table();
}
