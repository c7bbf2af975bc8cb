#include "diffvi/tensor/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/shape.h"

namespace diffvi {

namespace {

std::string out(const std::string& kernel, const Buf& b) {
  return kernel + " " + dtype_name(b.dtype) + shape_str(b.shape);
}
inline const Buf* as_buf(const Buf& b) { return &b; }
template <class T>
const Buf* as_buf(const T&) {
  return nullptr;
}

#define DIFFVI_KERNEL_ENUMERATOR(kernel, params, args) kernel,
enum class Kernel { DIFFVI_BACKEND_KERNELS(DIFFVI_KERNEL_ENUMERATOR) };
#undef DIFFVI_KERNEL_ENUMERATOR

// The name a call is tallied under. By default the entry point and its first buffer argument's
// dtype and shape (the output, by the contract's convention), so a new kernel needs nothing
// here; the specialisations below add the op, the flags or the inner extent where they matter.
template <Kernel K>
struct Describe {
  template <class... A>
  static std::string of(const char* kernel, const A&... args) {
    const Buf* first = nullptr;
    ((first = first ? first : as_buf(args)), ...);
    return first ? out(kernel, *first) : kernel;
  }
};
template <>
struct Describe<Kernel::random> {
  static std::string of(const char*, const Buf& dst, Distribution dist, double, double, uint64_t,
                        uint64_t) {
    return out(dist == Distribution::normal ? "random normal" : "random uniform", dst);
  }
};
template <>
struct Describe<Kernel::unary> {
  static std::string of(const char*, UnaryOp op, const Buf& dst, const Buf&, double, double) {
    return out(std::string("unary ") + unary_name(op), dst);
  }
};
template <>
struct Describe<Kernel::unary_backward> {
  static std::string of(const char*, UnaryOp op, const Buf& dx, const Buf&, const Buf&, double,
                        double) {
    return out(std::string("unary_backward ") + unary_name(op), dx);
  }
};
template <>
struct Describe<Kernel::binary> {
  static std::string of(const char*, BinaryOp op, const Buf& dst, const Buf&, const Buf&) {
    return out(std::string("binary ") + binary_name(op), dst);
  }
};
template <>
struct Describe<Kernel::reduce> {
  static std::string of(const char*, ReduceOp op, const Buf& dst, const Buf& src) {
    return out(std::string("reduce ") + reduce_name(op) + " " + shape_str(src.shape) + " ->", dst);
  }
};
template <>
struct Describe<Kernel::matmul> {
  static std::string of(const char*, const Buf& dst, const Buf& x, const Buf&, bool trans_x,
                        bool trans_w) {
    return out(std::string("matmul") + (trans_x ? " xT" : "") + (trans_w ? " wT" : "") +
                   " K=" + std::to_string(trans_x ? x.shape[1] : x.shape[2]) + " ->",
               dst);
  }
};
template <>
struct Describe<Kernel::scatter_add> {  // by the source: dst is the whole indexed buffer
  static std::string of(const char*, const Buf&, int64_t, const Buf&, const Buf& src) {
    return out("scatter_add", src);
  }
};
template <>
struct Describe<Kernel::linear> {
  static std::string of(const char*, const Buf& dst, const Buf& x, const Buf&, const Buf*,
                        Activation) {
    return out("linear K=" + std::to_string(x.shape[1]) + " ->", dst);
  }
};
template <>
struct Describe<Kernel::softmax> {
  static std::string of(const char*, const Buf& dst, const Buf&, bool log) {
    return out(log ? "log_softmax" : "softmax", dst);
  }
};
template <>
struct Describe<Kernel::softmax_backward> {
  static std::string of(const char*, const Buf& dx, const Buf&, const Buf&, bool log) {
    return out(log ? "log_softmax_backward" : "softmax_backward", dx);
  }
};
template <>
struct Describe<Kernel::adamw> {
  static std::string of(const char*, std::span<const AdamWSlot> slots, const AdamWConfig&) {
    int64_t n = 0;
    for (const AdamWSlot& s : slots) n += s.param.numel();
    return "adamw " + std::to_string(slots.size()) + " tensors, " + std::to_string(n) + " elements";
  }
};

}  // namespace

// Forwards every kernel to `inner`, timing it under the name Describe<kernel> gives the call.
// A fused kernel is forwarded too, so the inner backend's override (or its default) runs and is
// tallied as one call.
class ProfilingBackend final : public Backend {
 public:
  explicit ProfilingBackend(Backend& inner) : inner_(inner) {}

  const char* name() const override { return inner_.name(); }
  DeviceType device_type() const override { return inner_.device_type(); }
  bool supports(DType dtype) const override { return inner_.supports(dtype); }
  Allocator& allocator() override { return inner_.allocator(); }
  void set_num_threads(int n) override { inner_.set_num_threads(n); }

#define DIFFVI_UNPAREN(...) __VA_ARGS__
#define DIFFVI_FORWARD(kernel, params, args)                                                       \
  void kernel params override {                                                                    \
    time(Describe<Kernel::kernel>::of(#kernel, DIFFVI_UNPAREN args), [&] { inner_.kernel args; }); \
  }
  DIFFVI_BACKEND_KERNELS(DIFFVI_FORWARD)
#undef DIFFVI_FORWARD
#undef DIFFVI_UNPAREN

  std::map<std::string, KernelProfiler::Entry> tally;

 private:
  template <class F>
  void time(const std::string& kernel, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    KernelProfiler::Entry& e = tally[kernel];
    ++e.calls;
    e.total_ms += ms;
  }

  Backend& inner_;
};

KernelProfiler::KernelProfiler(DeviceType type)
    : backend_(std::make_unique<ProfilingBackend>(backend_for(type))),
      guard_(std::make_unique<BackendGuard>(*backend_)) {}

KernelProfiler::~KernelProfiler() = default;  // the guard goes first (declared last)

std::vector<KernelProfiler::Entry> KernelProfiler::entries() const {
  std::vector<Entry> out;
  for (const auto& [name, e] : backend_->tally) {
    out.push_back(e);
    out.back().kernel = name;
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.total_ms > b.total_ms; });
  return out;
}

double KernelProfiler::total_ms() const {
  double t = 0;
  for (const auto& [name, e] : backend_->tally) t += e.total_ms;
  return t;
}

void KernelProfiler::reset() { backend_->tally.clear(); }

std::string KernelProfiler::table(int64_t per) const {
  if (per < 1)
    throw ValueError("KernelProfiler::table: per must be >= 1, got " + std::to_string(per));
  const double total = total_ms();
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%10s %8s %7s  %s\n", "ms", "calls", "share", "kernel");
  out += line;
  for (const Entry& e : entries()) {
    std::snprintf(line, sizeof line, "%10.4f %8.2f %6.1f%%  %s\n", e.total_ms / per,
                  static_cast<double>(e.calls) / per, total > 0 ? 100 * e.total_ms / total : 0.0,
                  e.kernel.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%10.4f %8s %6.1f%%  %s\n", total / per, "", 100.0,
                "all kernels");
  out += line;
  return out;
}

}  // namespace diffvi
