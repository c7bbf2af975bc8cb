#include "diffvi/tensor/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/shape.h"

namespace diffvi {

namespace {

// The name a call is tallied under: the entry point, its op and the output's dtype and shape.
// One function per kernel of the contract (the forwarding below is generated from its lists, so
// a new kernel fails to compile here until it has one).
std::string out(const std::string& kernel, const Buf& b) {
  return kernel + " " + dtype_name(b.dtype) + shape_str(b.shape);
}
std::string describe_copy(const Buf& dst, const Buf&) { return out("copy", dst); }
std::string describe_copy_from_host(void*, const void*, size_t) { return "copy_from_host"; }
std::string describe_copy_to_host(void*, const void*, size_t) { return "copy_to_host"; }
std::string describe_fill(const Buf& dst, double) { return out("fill", dst); }
std::string describe_random(const Buf& dst, Distribution dist, double, double, uint64_t, uint64_t) {
  return out(dist == Distribution::normal ? "random normal" : "random uniform", dst);
}
std::string describe_arange(const Buf& dst, double, double) { return out("arange", dst); }
std::string describe_unary(UnaryOp op, const Buf& dst, const Buf&, double, double) {
  return out(std::string("unary ") + unary_name(op), dst);
}
std::string describe_unary_backward(UnaryOp op, const Buf& dx, const Buf&, const Buf&, double,
                                    double) {
  return out(std::string("unary_backward ") + unary_name(op), dx);
}
std::string describe_binary(BinaryOp op, const Buf& dst, const Buf&, const Buf&) {
  return out(std::string("binary ") + binary_name(op), dst);
}
std::string describe_where(const Buf& dst, const Buf&, const Buf&, const Buf&) {
  return out("where", dst);
}
std::string describe_reduce(ReduceOp op, const Buf& dst, const Buf& src) {
  return out(std::string("reduce ") + reduce_name(op) + " " + shape_str(src.shape) + " ->", dst);
}
std::string describe_cumsum(const Buf& dst, const Buf&, int64_t) { return out("cumsum", dst); }
std::string describe_matmul(const Buf& dst, const Buf& x, const Buf&, bool trans_x, bool trans_w) {
  return out(std::string("matmul") + (trans_x ? " xT" : "") + (trans_w ? " wT" : "") +
                 " K=" + std::to_string(trans_x ? x.shape[1] : x.shape[2]) + " ->",
             dst);
}
std::string describe_index_select(const Buf& dst, const Buf&, int64_t, const Buf&) {
  return out("index_select", dst);
}
std::string describe_gather(const Buf& dst, const Buf&, int64_t, const Buf&) {
  return out("gather", dst);
}
std::string describe_scatter_add(const Buf&, int64_t, const Buf&, const Buf& src) {
  return out("scatter_add", src);
}
std::string describe_linear(const Buf& dst, const Buf& x, const Buf&, const Buf*, Activation) {
  return out("linear K=" + std::to_string(x.shape[1]) + " ->", dst);
}
std::string describe_conv2d(const Buf& y, const Buf&, const Buf&, const Buf*, const Conv2dParams&) {
  return out("conv2d", y);
}
std::string describe_conv2d_backward_data(const Buf& dx, const Buf&, const Buf&,
                                          const Conv2dParams&) {
  return out("conv2d_backward_data", dx);
}
std::string describe_conv2d_backward_weights(const Buf& dw, const Buf*, const Buf&, const Buf&,
                                             const Conv2dParams&) {
  return out("conv2d_backward_weights", dw);
}
std::string describe_softmax(const Buf& dst, const Buf&, bool log) {
  return out(log ? "log_softmax" : "softmax", dst);
}
std::string describe_softmax_backward(const Buf& dx, const Buf&, const Buf&, bool log) {
  return out(log ? "log_softmax_backward" : "softmax_backward", dx);
}
std::string describe_layer_norm(const Buf& y, const Buf&, const Buf&, const Buf&, const Buf*,
                                const Buf*, double) {
  return out("layer_norm", y);
}
std::string describe_layer_norm_backward(const Buf& dx, const Buf*, const Buf*, const Buf&,
                                         const Buf&, const Buf&, const Buf&, const Buf*) {
  return out("layer_norm_backward", dx);
}
std::string describe_adamw(std::span<const AdamWSlot> slots, const AdamWConfig&) {
  int64_t n = 0;
  for (const AdamWSlot& s : slots) n += s.param.numel();
  return "adamw " + std::to_string(slots.size()) + " tensors, " + std::to_string(n) + " elements";
}

}  // namespace

// Forwards every kernel to `inner`, timing it under the name describe_<kernel> gives the call.
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

#define DIFFVI_FORWARD(kernel, params, args)                   \
  void kernel params override {                                \
    time(describe_##kernel args, [&] { inner_.kernel args; }); \
  }
  DIFFVI_BACKEND_KERNELS(DIFFVI_FORWARD)
#undef DIFFVI_FORWARD

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
