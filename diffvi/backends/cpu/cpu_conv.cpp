// Convolution on the CPU backend: f32 through oneDNN convolution_forward /
// convolution_backward_data / convolution_backward_weights primitives on plain NCHW / OIHW
// (GOIHW with groups) memory, cached by geometry; anything else (f64, empty extents, odd
// layouts) through the reference loops.
#include <utility>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_dnnl.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

using cpu::PrimitiveKey;
using dnnl::memory;
using tag = memory::format_tag;

constexpr auto kF32 = memory::data_type::f32;

// Below this many multiply-adds a convolution runs on one thread. oneDNN's gemm convolution
// splits small problems poorly: on a busy 2-core box a 3.6M-MAC conv (batch 2, 64 channels, 7×7)
// took ~1 ms on one thread and ~24 ms on two, the second thread's barrier waiting for a time
// slice. Above ~32M MACs (several ms of work) a second core pays for its wake-up.
constexpr int64_t kSerialConvMacs = int64_t{1} << 25;

// Everything that shapes a convolution primitive: x [N, C, H, W], w [O, C/G, KH, KW] and
// y [N, O, OH, OW] plus the stride/padding/groups of `p`.
struct ConvShape {
  memory::dims x, w, y;
  Conv2dParams p;

  memory::desc x_md() const { return memory::desc(x, kF32, tag::nchw); }
  memory::desc y_md() const { return memory::desc(y, kF32, tag::nchw); }
  memory::desc w_md() const {
    if (p.groups == 1) return memory::desc(w, kF32, tag::oihw);
    return memory::desc({p.groups, w[0] / p.groups, w[1], w[2], w[3]}, kF32, tag::goihw);
  }
  memory::desc bias_md(bool with_bias) const {
    return with_bias ? memory::desc({w[0]}, kF32, tag::x) : memory::desc();
  }
  memory::dims strides() const { return {p.stride_h, p.stride_w}; }
  // Symmetric padding, as PyTorch; oneDNN's output-size check floors like PyTorch's.
  memory::dims padding() const { return {p.pad_h, p.pad_w}; }
  int64_t macs() const { return y[0] * y[1] * y[2] * y[3] * w[1] * w[2] * w[3]; }

  PrimitiveKey key(cpu::PrimitiveKind kind, bool with_bias) const {
    PrimitiveKey k{
        static_cast<int64_t>(kind), with_bias, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.groups};
    k.insert(k.end(), x.begin(), x.end());
    k.insert(k.end(), w.begin(), w.end());
    k.insert(k.end(), y.begin(), y.end());
    return k;
  }

  // The forward descriptor: the primitive itself, and the hint both backward passes need.
  dnnl::convolution_forward::primitive_desc forward_pd(bool with_bias) const {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::convolution_direct, x_md(), w_md(),
                                      bias_md(with_bias), y_md(), strides(), padding(), padding());
    return dnnl::convolution_forward::primitive_desc(d, cpu::dnnl_engine());
  }
};

ConvShape conv_shape(const Buf& x, const Buf& w, const Buf& y, const Conv2dParams& p) {
  return {cpu::to_dims(x.shape), cpu::to_dims(w.shape), cpu::to_dims(y.shape), p};
}

// oneDNN handles the call: f32 throughout, every buffer dense, nothing empty.
bool dnnl_ok(std::initializer_list<const Buf*> bufs) {
  for (const Buf* b : bufs) {
    if (b && (b->dtype != DType::f32 || !cpu::is_dense(*b) || b->numel() == 0)) return false;
  }
  return true;
}

// Runs `prim` (false when it is empty: oneDNN had no implementation).
bool run(const dnnl::primitive& prim, std::unordered_map<int, memory> args) {
  if (!prim) return false;
  dnnl::stream& stream = cpu::dnnl_stream();
  prim.execute(stream, args);
  stream.wait();
  return true;
}

}  // namespace

void CpuBackend::conv2d(const Buf& y, const Buf& x, const Buf& w, const Buf* bias,
                        const Conv2dParams& p) {
  if (dnnl_ok({&y, &x, &w, bias})) {
    const ConvShape s = conv_shape(x, w, y, p);
    const bool with_bias = bias != nullptr;
    const cpu::SerialScope serial(s.macs() < kSerialConvMacs);
    dnnl::primitive prim = cpu::cached_primitive(
        s.key(cpu::PrimitiveKind::conv_fwd, with_bias),
        [&]() -> dnnl::primitive { return dnnl::convolution_forward(s.forward_pd(with_bias)); });
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, cpu::wrap(s.x_md(), x.data)},
                                         {DNNL_ARG_WEIGHTS, cpu::wrap(s.w_md(), w.data)},
                                         {DNNL_ARG_DST, cpu::wrap(s.y_md(), y.data)}};
    if (with_bias) args.emplace(DNNL_ARG_BIAS, cpu::wrap(s.bias_md(true), bias->data));
    if (run(prim, std::move(args))) return;
  }
  ReferenceBackend::conv2d(y, x, w, bias, p);
}

void CpuBackend::conv2d_backward_data(const Buf& dx, const Buf& dy, const Buf& w,
                                      const Conv2dParams& p) {
  if (dnnl_ok({&dx, &dy, &w})) {
    const ConvShape s = conv_shape(dx, w, dy, p);
    const cpu::SerialScope serial(s.macs() < kSerialConvMacs);
    dnnl::primitive prim = cpu::cached_primitive(
        s.key(cpu::PrimitiveKind::conv_bwd_data, false), [&]() -> dnnl::primitive {
          dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, s.x_md(),
                                                  s.w_md(), s.y_md(), s.strides(), s.padding(),
                                                  s.padding());
          return dnnl::convolution_backward_data(dnnl::convolution_backward_data::primitive_desc(
              d, cpu::dnnl_engine(), s.forward_pd(false)));
        });
    if (run(prim, {{DNNL_ARG_DIFF_SRC, cpu::wrap(s.x_md(), dx.data)},
                   {DNNL_ARG_WEIGHTS, cpu::wrap(s.w_md(), w.data)},
                   {DNNL_ARG_DIFF_DST, cpu::wrap(s.y_md(), dy.data)}})) {
      return;
    }
  }
  ReferenceBackend::conv2d_backward_data(dx, dy, w, p);
}

void CpuBackend::conv2d_backward_weights(const Buf& dw, const Buf* dbias, const Buf& x,
                                         const Buf& dy, const Conv2dParams& p) {
  if (dnnl_ok({&dw, dbias, &x, &dy})) {
    const ConvShape s = conv_shape(x, dw, dy, p);
    const bool with_bias = dbias != nullptr;
    const cpu::SerialScope serial(s.macs() < kSerialConvMacs);
    dnnl::primitive prim = cpu::cached_primitive(
        s.key(cpu::PrimitiveKind::conv_bwd_weights, with_bias), [&]() -> dnnl::primitive {
          dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, s.x_md(),
                                                     s.w_md(), s.bias_md(with_bias), s.y_md(),
                                                     s.strides(), s.padding(), s.padding());
          return dnnl::convolution_backward_weights(
              dnnl::convolution_backward_weights::primitive_desc(d, cpu::dnnl_engine(),
                                                                 s.forward_pd(with_bias)));
        });
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, cpu::wrap(s.x_md(), x.data)},
                                         {DNNL_ARG_DIFF_WEIGHTS, cpu::wrap(s.w_md(), dw.data)},
                                         {DNNL_ARG_DIFF_DST, cpu::wrap(s.y_md(), dy.data)}};
    if (with_bias) args.emplace(DNNL_ARG_DIFF_BIAS, cpu::wrap(s.bias_md(true), dbias->data));
    if (run(prim, std::move(args))) return;
  }
  ReferenceBackend::conv2d_backward_weights(dw, dbias, x, dy, p);
}

}  // namespace diffvi
