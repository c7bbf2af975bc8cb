// CUDA backend parity with the reference backend: matmul (every transpose flag, batched,
// broadcast and permuted operands), linear with bias and each activation, softmax and
// log-softmax forward/backward, layer norm forward/backward, index_select / gather /
// scatter_add, and the fused AdamW step.
#include <gtest/gtest.h>

#include <vector>

#include "cuda_test_util.h"

namespace {

using cudatest::AllMatchReference;
using cudatest::CudaTest;
using cudatest::MatchesReference;
using diffvi::Activation;
using diffvi::DType;
using diffvi::Tensor;
namespace raw = diffvi::raw;

// The matmul kernel itself, with its transpose flags, on whichever backend is active for the
// operands' device.
Tensor MatmulKernel(const Tensor& x, const Tensor& w, bool tx, bool tw) {
  const int64_t b = x.dim() == 3 ? x.size(0) : (w.dim() == 3 ? w.size(0) : 1);
  const int64_t m = tx ? x.size(-1) : x.size(-2);
  const int64_t n = tw ? w.size(-2) : w.size(-1);
  const diffvi::Shape shape =
      (x.dim() == 3 || w.dim() == 3) ? diffvi::Shape{b, m, n} : diffvi::Shape{m, n};
  Tensor dst = diffvi::empty(shape, diffvi::TensorOptions(x.dtype()).set_device(x.device()));
  diffvi::backend_for(x.device().type).matmul(dst.buf(), x.buf(), w.buf(), tx, tw);
  return dst;
}

TEST_F(CudaTest, MatmulEveryTransposeFlag) {
  for (bool tx : {false, true}) {
    for (bool tw : {false, true}) {
      const Tensor x =
          testutil::Uniform(tx ? diffvi::Shape{3, 19, 17} : diffvi::Shape{3, 17, 19}, 60);
      const Tensor w =
          testutil::Uniform(tw ? diffvi::Shape{3, 23, 19} : diffvi::Shape{3, 19, 23}, 61);
      EXPECT_TRUE(MatchesReference(
          [=](const std::vector<Tensor>& in) { return MatmulKernel(in[0], in[1], tx, tw); }, {x, w},
          1e-5, 1e-5))
          << "trans_x " << tx << " trans_w " << tw;
    }
  }
}

TEST_F(CudaTest, MatmulBroadcastAndStridedOperands) {
  const Tensor x = testutil::Uniform({4, 8, 16}, 62);
  const Tensor w = testutil::Uniform({16, 5}, 63);
  // A 2-D weight shared by every batch (batch stride 0), NumPy-style through the tensor layer.
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) { return raw::matmul(in[0], in[1]); }, {x, w}));
  // Permuted batch (cuBLAS cannot address it: the kernel must copy) and a sliced weight.
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) {
        const Tensor xp = raw::permute(in[0], {1, 0, 2});  // [8, 4, 16], batch stride 16
        return raw::matmul(raw::slice(xp, 2, 0, 16, 2), raw::slice(in[1], 0, 0, 8));
      },
      {x, w}));
  // Vectors and empty inner dims.
  EXPECT_TRUE(
      MatchesReference([](const std::vector<Tensor>& in) { return raw::matmul(in[0], in[1]); },
                       {testutil::Uniform({16}, 64), w}));
  EXPECT_TRUE(
      MatchesReference([](const std::vector<Tensor>& in) { return raw::matmul(in[0], in[1]); },
                       {testutil::Uniform({3, 0}, 65), testutil::Uniform({0, 4}, 66)}));
}

TEST_F(CudaTest, LinearWithBiasAndEachActivation) {
  const Tensor x = testutil::Uniform({13, 24}, 70);
  const Tensor w = testutil::Uniform({9, 24}, 71);
  const Tensor bias = testutil::Uniform({9}, 72);
  for (Activation act :
       {Activation::none, Activation::relu, Activation::gelu_erf, Activation::gelu_tanh,
        Activation::silu, Activation::tanh, Activation::sigmoid}) {
    EXPECT_TRUE(MatchesReference(
        [act](const std::vector<Tensor>& in) { return raw::linear(in[0], in[1], in[2], act); },
        {x, w, bias}))
        << "activation " << static_cast<int>(act);
    EXPECT_TRUE(MatchesReference(
        [act](const std::vector<Tensor>& in) { return raw::linear(in[0], in[1], Tensor(), act); },
        {x, w}))
        << "activation " << static_cast<int>(act) << " without bias";
  }
}

TEST_F(CudaTest, SoftmaxForwardAndBackward) {
  for (const diffvi::Shape& shape :
       {diffvi::Shape{5, 7}, diffvi::Shape{3, 1000}, diffvi::Shape{2, 3, 1}}) {
    const Tensor x = testutil::Uniform(shape, 80, DType::f32, -10, 10);
    const Tensor dy = testutil::Uniform(shape, 81);
    for (bool log : {false, true}) {
      EXPECT_TRUE(MatchesReference(
          [log](const std::vector<Tensor>& in) { return raw::softmax(in[0], -1, log); }, {x}));
      EXPECT_TRUE(MatchesReference(
          [log](const std::vector<Tensor>& in) { return raw::softmax(in[0], 0, log); }, {x}));
      EXPECT_TRUE(MatchesReference(
          [log](const std::vector<Tensor>& in) {
            return raw::softmax_backward(raw::softmax(in[0], -1, log), in[1], -1, log);
          },
          {x, dy}));
    }
  }
}

TEST_F(CudaTest, LayerNormForwardAndBackward) {
  const Tensor x = testutil::Uniform({6, 4, 50}, 90, DType::f32, -2, 3);
  const Tensor gamma = testutil::Uniform({4, 50}, 91);
  const Tensor beta = testutil::Uniform({4, 50}, 92);
  const Tensor dy = testutil::Uniform({6, 4, 50}, 93);
  for (bool affine : {false, true}) {
    EXPECT_TRUE(AllMatchReference(
        [affine](const std::vector<Tensor>& in) {
          const raw::LayerNormOut o =
              raw::layer_norm(in[0], 2, affine ? in[1] : Tensor(), affine ? in[2] : Tensor(), 1e-5);
          return std::vector<Tensor>{o.y, o.mean, o.rstd};
        },
        {x, gamma, beta}, 1e-4, 1e-5));
    EXPECT_TRUE(AllMatchReference(
        [affine](const std::vector<Tensor>& in) {
          const Tensor g = affine ? in[1] : Tensor();
          const raw::LayerNormOut o = raw::layer_norm(in[0], 2, g, Tensor(), 1e-5);
          const raw::LayerNormGrads d =
              raw::layer_norm_backward(in[3], in[0], o.mean, o.rstd, 2, g, affine, affine);
          std::vector<Tensor> out{d.dx};
          if (affine) out.insert(out.end(), {d.dgamma, d.dbeta});
          return out;
        },
        {x, gamma, beta, dy}, 1e-4, 1e-4));
  }
}

TEST_F(CudaTest, IndexSelectGatherScatterAdd) {
  const Tensor src = testutil::Uniform({5, 6, 4}, 100);
  // Repeated and unordered positions, valid along every dim of src.
  const Tensor idx = diffvi::from_vector(std::vector<int64_t>{3, 0, 0, 2, 1, 1, 3}, {7});
  for (int64_t dim = 0; dim < 3; ++dim) {
    EXPECT_TRUE(MatchesReference(
        [dim](const std::vector<Tensor>& in) {
          return raw::index_select(raw::transpose(in[0], 0, 2), dim, in[1]);
        },
        {src, idx}, 0, 0));
  }
  // gather / scatter_add along dim 1 with a [5, 3, 4] index of repeated positions.
  std::vector<int64_t> g(5 * 3 * 4);
  for (size_t k = 0; k < g.size(); ++k) g[k] = static_cast<int64_t>((k * 7) % 6);
  const Tensor gidx = diffvi::from_vector(g, {5, 3, 4});
  EXPECT_TRUE(
      MatchesReference([](const std::vector<Tensor>& in) { return raw::gather(in[0], 1, in[1]); },
                       {src, gidx}, 0, 0));
  const Tensor upd = testutil::Uniform({5, 3, 4}, 101);
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) { return raw::scatter_add(in[0], 1, in[1], in[2]); },
      {src, gidx, upd}, 1e-6, 1e-6));
  const Tensor src_i =
      raw::to(testutil::Uniform({5, 6, 4}, 102, DType::f32, -100, 100), DType::i64);
  const Tensor upd_i =
      raw::to(testutil::Uniform({5, 3, 4}, 103, DType::f32, -100, 100), DType::i64);
  EXPECT_TRUE(MatchesReference(
      [](const std::vector<Tensor>& in) { return raw::scatter_add(in[0], 1, in[1], in[2]); },
      {src_i, gidx, upd_i}, 0, 0));
}

TEST_F(CudaTest, AdamWStep) {
  diffvi::AdamWConfig config;
  config.lr = 1e-2;
  config.weight_decay = 0.1;
  config.step = 3;
  const std::vector<Tensor> init = {testutil::Uniform({7, 5}, 110), testutil::Uniform({33}, 111)};
  const std::vector<Tensor> grads = {testutil::Uniform({7, 5}, 112), testutil::Uniform({33}, 113)};
  const std::vector<Tensor> m0 = {testutil::Uniform({7, 5}, 114), testutil::Uniform({33}, 115)};
  const std::vector<Tensor> v0 = {testutil::Uniform({7, 5}, 116, DType::f32, 0, 1),
                                  testutil::Uniform({33}, 117, DType::f32, 0, 1)};
  std::vector<Tensor> inputs;
  for (const auto* group : {&init, &grads, &m0, &v0}) {
    inputs.insert(inputs.end(), group->begin(), group->end());
  }
  EXPECT_TRUE(AllMatchReference(
      [config](const std::vector<Tensor>& in) {
        std::vector<Tensor> p, g, m, v;
        for (int k = 0; k < 2; ++k) {
          p.push_back(raw::clone(in[k]));
          g.push_back(in[2 + k]);
          m.push_back(raw::clone(in[4 + k]));
          v.push_back(raw::clone(in[6 + k]));
        }
        raw::adamw_(p, g, m, v, config);
        return std::vector<Tensor>{p[0], p[1], m[0], m[1], v[0], v[1]};
      },
      inputs, 1e-5, 1e-6));
}

}  // namespace
