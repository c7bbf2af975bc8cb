// Softmax / log-softmax of the CPU backend: f32 on dense rows through cached oneDNN
// primitives; f64 and any other layout through the reference. (Layer norm: cpu_layer_norm.cpp.)
#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_dnnl.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

using cpu::PrimitiveKey;
using cpu::PrimitiveKind;
using dnnl::memory;

constexpr auto kF32 = memory::data_type::f32;

dnnl::softmax_v2_forward::primitive_desc softmax_fwd_pd(const memory::desc& md, bool log) {
  const auto alg = log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
  return {{dnnl::prop_kind::forward_training, alg, md, md, 1}, cpu::dnnl_engine()};
}

}  // namespace

void CpuBackend::softmax(const Buf& dst, const Buf& x, bool log) {
  int64_t rows, cols, drows, dcols;
  if (!cpu::dense_rows(x, rows, cols) || !cpu::dense_rows(dst, drows, dcols)) {
    ReferenceBackend::softmax(dst, x, log);
    return;
  }
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  cpu::BoundPrimitive& prim =
      cpu::bound_primitive({static_cast<int64_t>(PrimitiveKind::softmax_fwd), rows, cols, log},
                           {DNNL_ARG_SRC, DNNL_ARG_DST}, [&]() -> dnnl::primitive {
                             const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
                             return dnnl::softmax_v2_forward(softmax_fwd_pd(md, log));
                           });
  if (!prim) {
    ReferenceBackend::softmax(dst, x, log);
    return;
  }
  prim.execute({x.data, dst.data});
}

void CpuBackend::softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) {
  int64_t rows, cols, r2, c2, r3, c3;
  if (!cpu::dense_rows(y, rows, cols) || !cpu::dense_rows(dx, r2, c2) ||
      !cpu::dense_rows(dy, r3, c3)) {
    ReferenceBackend::softmax_backward(dx, y, dy, log);
    return;
  }
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  cpu::BoundPrimitive& prim = cpu::bound_primitive(
      {static_cast<int64_t>(PrimitiveKind::softmax_bwd), rows, cols, log},
      {DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC}, [&]() -> dnnl::primitive {
        const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
        const auto alg = log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
        dnnl::softmax_v2_backward::desc desc(alg, md, md, md, 1);
        return dnnl::softmax_v2_backward({desc, cpu::dnnl_engine(), softmax_fwd_pd(md, log)});
      });
  if (!prim) {
    ReferenceBackend::softmax_backward(dx, y, dy, log);
    return;
  }
  prim.execute({y.data, dy.data, dx.data});
}

}  // namespace diffvi
