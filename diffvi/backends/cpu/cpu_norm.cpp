// Softmax / log-softmax and layer norm of the CPU backend: f32 on dense rows through cached
// oneDNN primitives; f64 and any other layout through the reference.
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "diffvi/backends/cpu/cpu_backend.h"
#include "diffvi/backends/cpu/cpu_dnnl.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi {
namespace {

using cpu::PrimitiveKey;
using cpu::PrimitiveKind;
using dnnl::memory;
using Flags = dnnl::normalization_flags;

constexpr auto kF32 = memory::data_type::f32;

// Rows and columns of a dense f32 operand read as the contract's [rows, cols] (other ranks
// are rows of the last dim, as in the reference).
bool dense_rows(const Buf& b, int64_t& rows, int64_t& cols) {
  if (b.dtype != DType::f32 || b.ndim() == 0 || !cpu::is_dense(b)) return false;
  cols = b.shape.back();
  rows = cols == 0 ? 0 : b.numel() / cols;
  return rows > 0 && cols > 0;
}

bool dense_vec(const Buf* b, int64_t n) {
  return b == nullptr || (b->dtype == DType::f32 && b->numel() == n && cpu::is_dense(*b));
}

void run(dnnl::primitive& prim, const std::unordered_map<int, memory>& args) {
  dnnl::stream& stream = cpu::dnnl_stream();
  prim.execute(stream, args);
  stream.wait();
}

dnnl::softmax_v2_forward::primitive_desc softmax_fwd_pd(const memory::desc& md, bool log) {
  const auto alg = log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
  return {{dnnl::prop_kind::forward_training, alg, md, md, 1}, cpu::dnnl_engine()};
}

dnnl::layer_normalization_forward::primitive_desc lnorm_fwd_pd(const memory::desc& md, float eps,
                                                               Flags flags) {
  const memory::desc stat_md({md.dims()[0]}, kF32, memory::format_tag::a);
  return {{dnnl::prop_kind::forward_training, md, stat_md, eps, flags}, cpu::dnnl_engine()};
}

}  // namespace

void CpuBackend::softmax(const Buf& dst, const Buf& x, bool log) {
  int64_t rows, cols, drows, dcols;
  if (!dense_rows(x, rows, cols) || !dense_rows(dst, drows, dcols)) {
    ReferenceBackend::softmax(dst, x, log);
    return;
  }
  const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  dnnl::primitive prim = cpu::cached_primitive(
      {static_cast<int64_t>(PrimitiveKind::softmax_fwd), rows, cols, log},
      [&]() -> dnnl::primitive { return dnnl::softmax_v2_forward(softmax_fwd_pd(md, log)); });
  if (!prim) {
    ReferenceBackend::softmax(dst, x, log);
    return;
  }
  run(prim, {{DNNL_ARG_SRC, cpu::wrap(md, x.data)}, {DNNL_ARG_DST, cpu::wrap(md, dst.data)}});
}

void CpuBackend::softmax_backward(const Buf& dx, const Buf& y, const Buf& dy, bool log) {
  int64_t rows, cols, r2, c2, r3, c3;
  if (!dense_rows(y, rows, cols) || !dense_rows(dx, r2, c2) || !dense_rows(dy, r3, c3)) {
    ReferenceBackend::softmax_backward(dx, y, dy, log);
    return;
  }
  const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  dnnl::primitive prim = cpu::cached_primitive(
      {static_cast<int64_t>(PrimitiveKind::softmax_bwd), rows, cols, log},
      [&]() -> dnnl::primitive {
        const auto alg = log ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
        dnnl::softmax_v2_backward::desc desc(alg, md, md, md, 1);
        return dnnl::softmax_v2_backward({desc, cpu::dnnl_engine(), softmax_fwd_pd(md, log)});
      });
  if (!prim) {
    ReferenceBackend::softmax_backward(dx, y, dy, log);
    return;
  }
  run(prim, {{DNNL_ARG_DST, cpu::wrap(md, y.data)},
             {DNNL_ARG_DIFF_DST, cpu::wrap(md, dy.data)},
             {DNNL_ARG_DIFF_SRC, cpu::wrap(md, dx.data)}});
}

void CpuBackend::layer_norm(const Buf& y, const Buf& mean, const Buf& rstd, const Buf& x,
                            const Buf* gamma, const Buf* beta, double eps) {
  int64_t rows, cols, r2, c2;
  if (!dense_rows(x, rows, cols) || !dense_rows(y, r2, c2) || !dense_vec(&mean, rows) ||
      !dense_vec(&rstd, rows) || !dense_vec(gamma, cols) || !dense_vec(beta, cols)) {
    ReferenceBackend::layer_norm(y, mean, rstd, x, gamma, beta, eps);
    return;
  }
  Flags flags = Flags::none;
  if (gamma) flags |= Flags::use_scale;
  if (beta) flags |= Flags::use_shift;
  const float feps = static_cast<float>(eps);
  const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  int32_t eps_bits;
  std::memcpy(&eps_bits, &feps, sizeof eps_bits);
  dnnl::primitive prim = cpu::cached_primitive(
      {static_cast<int64_t>(PrimitiveKind::lnorm_fwd), rows, cols, static_cast<int64_t>(flags),
       eps_bits},
      [&]() -> dnnl::primitive {
        return dnnl::layer_normalization_forward(lnorm_fwd_pd(md, feps, flags));
      });
  if (!prim) {
    ReferenceBackend::layer_norm(y, mean, rstd, x, gamma, beta, eps);
    return;
  }
  const memory::desc stat_md({rows}, kF32, memory::format_tag::a);
  const memory::desc vec_md({cols}, kF32, memory::format_tag::a);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, cpu::wrap(md, x.data)},
                                       {DNNL_ARG_DST, cpu::wrap(md, y.data)},
                                       {DNNL_ARG_MEAN, cpu::wrap(stat_md, mean.data)},
                                       {DNNL_ARG_VARIANCE, cpu::wrap(stat_md, rstd.data)}};
  if (gamma) args.emplace(DNNL_ARG_SCALE, cpu::wrap(vec_md, gamma->data));
  if (beta) args.emplace(DNNL_ARG_SHIFT, cpu::wrap(vec_md, beta->data));
  run(prim, args);
  // oneDNN reports the biased variance; the contract stores rstd in its place.
  float* r = rstd.ptr<float>();
  for (int64_t i = 0; i < rows; ++i) {
    r[i] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(r[i]) + eps));
  }
}

void CpuBackend::layer_norm_backward(const Buf& dx, const Buf* dgamma, const Buf* dbeta,
                                     const Buf& dy, const Buf& x, const Buf& mean, const Buf& rstd,
                                     const Buf* gamma) {
  int64_t rows, cols, r2, c2, r3, c3;
  if (!dense_rows(x, rows, cols) || !dense_rows(dx, r2, c2) || !dense_rows(dy, r3, c3) ||
      !dense_vec(&mean, rows) || !dense_vec(&rstd, rows) || !dense_vec(gamma, cols) ||
      !dense_vec(dgamma, cols) || !dense_vec(dbeta, cols) || (dgamma && !gamma)) {
    // dgamma without gamma would need a ones vector as oneDNN's scale; rare enough to defer.
    ReferenceBackend::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma);
    return;
  }
  // dbeta is a plain column sum of dy (done below); oneDNN computes dx and dgamma.
  const bool weights = dgamma != nullptr;
  const Flags flags = gamma ? Flags::use_scale : Flags::none;
  const auto prop = weights ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
  const memory::desc md({rows, cols}, kF32, memory::format_tag::ab);
  const cpu::SerialScope serial(rows * cols < cpu::kParallelThreshold);
  // The contract hands over rstd, oneDNN wants the variance: eps = 0 and var = 1 / rstd^2
  // make oneDNN's 1/sqrt(var + eps) give back rstd.
  dnnl::primitive prim = cpu::cached_primitive(
      {static_cast<int64_t>(PrimitiveKind::lnorm_bwd), rows, cols, static_cast<int64_t>(flags),
       static_cast<int64_t>(prop)},
      [&]() -> dnnl::primitive {
        const memory::desc stat_md({rows}, kF32, memory::format_tag::a);
        dnnl::layer_normalization_backward::desc desc(prop, md, md, stat_md, 0.f, flags);
        return dnnl::layer_normalization_backward(
            {desc, cpu::dnnl_engine(), lnorm_fwd_pd(md, 0.f, flags)});
      });
  if (!prim) {
    ReferenceBackend::layer_norm_backward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma);
    return;
  }
  thread_local std::vector<float> var;
  var.resize(static_cast<size_t>(rows));
  const float* r = rstd.ptr<float>();
  for (int64_t i = 0; i < rows; ++i) {
    const double rs = static_cast<double>(r[i]);
    var[i] = static_cast<float>(1.0 / (rs * rs));
  }
  const memory::desc stat_md({rows}, kF32, memory::format_tag::a);
  const memory::desc vec_md({cols}, kF32, memory::format_tag::a);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, cpu::wrap(md, x.data)},
                                       {DNNL_ARG_DIFF_DST, cpu::wrap(md, dy.data)},
                                       {DNNL_ARG_DIFF_SRC, cpu::wrap(md, dx.data)},
                                       {DNNL_ARG_MEAN, cpu::wrap(stat_md, mean.data)},
                                       {DNNL_ARG_VARIANCE, cpu::wrap(stat_md, var.data())}};
  if (gamma) args.emplace(DNNL_ARG_SCALE, cpu::wrap(vec_md, gamma->data));
  if (dgamma) args.emplace(DNNL_ARG_DIFF_SCALE, cpu::wrap(vec_md, dgamma->data));
  run(prim, args);
  if (dbeta) {
    reduce(ReduceOp::sum, Buf{dbeta->data, DType::f32, {1, cols}, {cols, 1}},
           Buf{dy.data, DType::f32, {rows, cols}, {cols, 1}});
  }
}

}  // namespace diffvi
