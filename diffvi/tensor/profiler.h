// KernelProfiler: where a step's time goes, kernel by kernel. While alive it puts a timing
// decorator in front of the active backend of one device type, for the calling thread only
// (through BackendGuard), and tallies every kernel call by contract entry, op and output shape
// ("unary gelu_erf [256, 256]", "linear [256, 256]", ...). Kernels on the CPU backends are
// synchronous, so the times are their real durations; an asynchronous backend (CUDA) would be
// timed at launch only.
//
//   diffvi::KernelProfiler profiler;
//   train_step();
//   std::cout << profiler.table();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "diffvi/tensor/backend.h"

namespace diffvi {

class ProfilingBackend;

class KernelProfiler {
 public:
  explicit KernelProfiler(DeviceType type = DeviceType::cpu);
  ~KernelProfiler();
  KernelProfiler(const KernelProfiler&) = delete;
  KernelProfiler& operator=(const KernelProfiler&) = delete;

  struct Entry {
    std::string kernel;  // entry point, op and output shape
    int64_t calls = 0;
    double total_ms = 0;
  };
  // Every kernel seen since construction or reset(), the largest total time first.
  std::vector<Entry> entries() const;
  double total_ms() const;
  void reset();
  // entries() as an aligned text table with each kernel's share of the total, divided by
  // `per` (e.g. the number of steps profiled, to report per-step figures).
  std::string table(int64_t per = 1) const;

 private:
  std::unique_ptr<ProfilingBackend> backend_;
  std::unique_ptr<BackendGuard> guard_;
};

}  // namespace diffvi
