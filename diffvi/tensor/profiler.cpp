#include "diffvi/tensor/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/shape.h"

namespace diffvi {

namespace {
const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "max", "min", "logsumexp"};
  return names[static_cast<int>(op)];
}
}  // namespace

// Forwards every kernel to `inner`, timing it under a name built from the call.
class ProfilingBackend final : public Backend {
 public:
  explicit ProfilingBackend(Backend& inner) : inner_(inner) {}

  const char* name() const override { return inner_.name(); }
  DeviceType device_type() const override { return inner_.device_type(); }
  bool supports(DType dtype) const override { return inner_.supports(dtype); }
  Allocator& allocator() override { return inner_.allocator(); }
  void set_num_threads(int n) override { inner_.set_num_threads(n); }

  void copy(const Buf& dst, const Buf& src) override {
    time("copy", dst, [&] { inner_.copy(dst, src); });
  }
  void copy_from_host(void* dst, const void* host_src, size_t bytes) override {
    time("copy_from_host", [&] { inner_.copy_from_host(dst, host_src, bytes); });
  }
  void copy_to_host(void* host_dst, const void* src, size_t bytes) override {
    time("copy_to_host", [&] { inner_.copy_to_host(host_dst, src, bytes); });
  }
  void fill(const Buf& dst, double value) override {
    time("fill", dst, [&] { inner_.fill(dst, value); });
  }
  void random(const Buf& dst, Distribution dist, double a, double b, uint64_t seed,
              uint64_t offset) override {
    time(dist == Distribution::normal ? "random normal" : "random uniform", dst,
         [&] { inner_.random(dst, dist, a, b, seed, offset); });
  }
  void arange(const Buf& dst, double start, double step) override {
    time("arange", dst, [&] { inner_.arange(dst, start, step); });
  }
  void unary(UnaryOp op, const Buf& dst, const Buf& x, double a, double b) override {
    time(std::string("unary ") + unary_name(op), dst, [&] { inner_.unary(op, dst, x, a, b); });
  }
  void unary_backward(UnaryOp op, const Buf& dx, const Buf& x, const Buf& dy, double a,
                      double b) override {
    time(std::string("unary_backward ") + unary_name(op), dx,
         [&] { inner_.unary_backward(op, dx, x, dy, a, b); });
  }
  void binary(BinaryOp op, const Buf& dst, const Buf& x, const Buf& y) override {
    time(std::string("binary ") + binary_name(op), dst, [&] { inner_.binary(op, dst, x, y); });
  }
  void where(const Buf& dst, const Buf& cond, const Buf& x, const Buf& y) override {
    time("where", dst, [&] { inner_.where(dst, cond, x, y); });
  }
  void reduce(ReduceOp op, const Buf& dst, const Buf& src) override {
    time(std::string("reduce ") + reduce_name(op) + " " + shape_str(src.shape) + " ->", dst,
         [&] { inner_.reduce(op, dst, src); });
  }
  void cumsum(const Buf& dst, const Buf& src, int64_t axis) override {
    time("cumsum", dst, [&] { inner_.cumsum(dst, src, axis); });
  }
  void matmul(const Buf& dst, const Buf& x, const Buf& w, bool trans_x, bool trans_w) override {
    time(std::string("matmul") + (trans_x ? " xT" : "") + (trans_w ? " wT" : "") +
             " K=" + std::to_string(trans_x ? x.shape[1] : x.shape[2]) + " ->",
         dst, [&] { inner_.matmul(dst, x, w, trans_x, trans_w); });
  }
  void linear(const Buf& dst, const Buf& x, const Buf& w, const Buf* bias,
              Activation act) override {
    time("linear K=" + std::to_string(x.shape[1]) + " ->", dst,
         [&] { inner_.linear(dst, x, w, bias, act); });
  }
  void conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
              const Conv2dParams& p) override {
    time("conv2d", y, [&] { inner_.conv2d(y, x, w, bias, p); });
  }
  void conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                            const Conv2dParams& p) override {
    time("conv2d_backward_data", dx, [&] { inner_.conv2d_backward_data(dx, dy, w, p); });
  }
  void conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x, const Buf& dy,
                               const Conv2dParams& p) override {
    time("conv2d_backward_weights", dw,
         [&] { inner_.conv2d_backward_weights(dw, dbias, x, dy, p); });
  }
  void softmax(const Buf& dst, const Buf& x, bool log) override {
    time(log ? "log_softmax" : "softmax", dst, [&] { inner_.softmax(dst, x, log); });
  }
  void softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) override {
    time(log ? "log_softmax_backward" : "softmax_backward", dx,
         [&] { inner_.softmax_backward(dx, y, dy, log); });
  }
  void layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x, const Buf* gamma,
                  const Buf* beta, double eps) override {
    time("layer_norm", y, [&] { inner_.layer_norm(y, mean, rstd, x, gamma, beta, eps); });
  }
  void layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta, const Buf& dy,
                           const Buf& x, const Buf& mean, const Buf& rstd,
                           const Buf* gamma) override {
    time("layer_norm_backward", dx,
         [&] { inner_.layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma); });
  }
  void index_select(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) override {
    time("index_select", dst, [&] { inner_.index_select(dst, src, axis, index); });
  }
  void gather(const Buf& dst, const Buf& src, int64_t axis, const Buf& index) override {
    time("gather", dst, [&] { inner_.gather(dst, src, axis, index); });
  }
  void scatter_add(const Buf& dst, int64_t axis, const Buf& index, const Buf& src) override {
    time("scatter_add", src, [&] { inner_.scatter_add(dst, axis, index, src); });
  }
  void adamw(std::span<const AdamWSlot> slots, const AdamWConfig& config) override {
    int64_t n = 0;
    for (const AdamWSlot& s : slots) n += s.param.numel();
    time("adamw " + std::to_string(slots.size()) + " tensors, " + std::to_string(n) + " elements",
         [&] { inner_.adamw(slots, config); });
  }

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
  template <class F>
  void time(const std::string& kernel, const Buf& out, F&& f) {
    time(kernel + " " + dtype_name(out.dtype) + shape_str(out.shape), std::forward<F>(f));
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
