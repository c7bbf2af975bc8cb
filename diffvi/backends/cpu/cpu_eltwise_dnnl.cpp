// Transcendental unary ops on dense f32 through oneDNN eltwise primitives. oneDNN JIT-compiles
// them for the ISA found at run time (AVX-512 / AVX2 / SSE4.1) with its own vectorised exp, tanh
// and erf, so the binary stays portable while GELU and friends run at vector width instead of
// through libm in double. Only ops whose oneDNN definition matches the contract exactly go here
// (relu is excluded: oneDNN's max(x, 0) drops NaN, which the contract propagates; clamp too: its
// backward excludes the lower bound). Primitives are cached on op, alpha, beta and size.
#include <bit>
#include <optional>
#include <unordered_map>

#include "diffvi/backends/cpu/cpu_dnnl.h"
#include "diffvi/backends/cpu/cpu_eltwise.h"
#include "diffvi/backends/cpu/cpu_internal.h"

namespace diffvi::cpu {
namespace {

using dnnl::algorithm;
using dnnl::memory;

struct EltwiseAlg {
  algorithm alg;
  float alpha = 0.f, beta = 0.f;
};

std::optional<EltwiseAlg> to_dnnl(UnaryOp op, double a) {
  switch (op) {
    case UnaryOp::exp:
      return EltwiseAlg{algorithm::eltwise_exp};
    case UnaryOp::sqrt:
      return EltwiseAlg{algorithm::eltwise_sqrt};
    case UnaryOp::tanh:
      return EltwiseAlg{algorithm::eltwise_tanh};
    case UnaryOp::sigmoid:
      return EltwiseAlg{algorithm::eltwise_logistic};
    case UnaryOp::softplus:  // log(1 + exp(x)); alpha/beta are ignored in oneDNN 2.6
      return EltwiseAlg{algorithm::eltwise_soft_relu};
    case UnaryOp::silu:  // x * sigmoid(alpha * x)
      return EltwiseAlg{algorithm::eltwise_swish, 1.f};
    case UnaryOp::gelu_erf:
      return EltwiseAlg{algorithm::eltwise_gelu_erf};
    case UnaryOp::gelu_tanh:
      return EltwiseAlg{algorithm::eltwise_gelu_tanh};
    case UnaryOp::pow_scalar:  // alpha * x^beta
      return EltwiseAlg{algorithm::eltwise_pow, 1.f, static_cast<float>(a)};
    default:
      return std::nullopt;
  }
}

memory::desc vec_md(int64_t n) {
  return memory::desc({n}, memory::data_type::f32, memory::format_tag::a);
}

dnnl::eltwise_forward::primitive_desc fwd_pd(const EltwiseAlg& e, const memory::desc& md) {
  return {{dnnl::prop_kind::forward_training, e.alg, md, e.alpha, e.beta}, dnnl_engine()};
}

PrimitiveKey key_of(bool backward, const EltwiseAlg& e, int64_t n) {
  return {static_cast<int64_t>(PrimitiveKind::eltwise),
          backward,
          static_cast<int64_t>(e.alg),
          std::bit_cast<int32_t>(e.alpha),
          std::bit_cast<int32_t>(e.beta),
          n};
}

}  // namespace

bool dnnl_unary_f32(UnaryOp op, float* dst, const float* x, int64_t n, double a, double b) {
  const std::optional<EltwiseAlg> e = to_dnnl(op, a);
  if (!e || n < kMinDnnlEltwise) return false;
  // Same split as the loops: oneDNN would otherwise wake the whole team for any size.
  const SerialScope serial(n < kParallelThresholdHeavy);
  BoundPrimitive& prim = bound_primitive(
      key_of(false, *e, n), {DNNL_ARG_SRC, DNNL_ARG_DST},
      [&]() -> dnnl::primitive { return dnnl::eltwise_forward(fwd_pd(*e, vec_md(n))); });
  if (!prim) return false;
  prim.execute({x, dst});
  return true;
}

bool dnnl_unary_backward_f32(UnaryOp op, float* dx, const float* x, const float* dy, int64_t n,
                             double a, double b) {
  std::optional<EltwiseAlg> e = to_dnnl(op, a);
  // x^0 has derivative 0 everywhere; oneDNN's 0 * x^-1 would give NaN at x = 0.
  if (!e || n < kMinDnnlEltwise || (op == UnaryOp::pow_scalar && a == 0)) return false;
  const SerialScope serial(n < kParallelThresholdHeavy);
  BoundPrimitive& prim =
      bound_primitive(key_of(true, *e, n), {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC},
                      [&]() -> dnnl::primitive {
                        const memory::desc md = vec_md(n);
                        const dnnl::eltwise_backward::desc desc(e->alg, md, md, e->alpha, e->beta);
                        return dnnl::eltwise_backward({desc, dnnl_engine(), fwd_pd(*e, md)});
                      });
  if (!prim) return false;
  prim.execute({x, dy, dx});
  return true;
}

}  // namespace diffvi::cpu
