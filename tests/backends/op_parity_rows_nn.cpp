// Rows of the op-parity table for the linear-algebra, normalisation, convolution, indexing and
// optimiser kernels (the fused kernels among them run as each backend's override or as the
// default built from its primitives).
#include "op_parity.h"

namespace parity {
namespace {

using diffvi::Activation;
using diffvi::Conv2dParams;
using diffvi::TensorOptions;
using In = const std::vector<Tensor>&;
using Opts = const TensorOptions&;
using Out = std::vector<Tensor>;
namespace raw = diffvi::raw;

std::string str(const Shape& s) { return diffvi::shape_str(s); }
Tensor tr(const Tensor& t) { return raw::transpose(t, -1, -2); }

// Positions 0..n-1 repeated and unordered, as index values.
std::vector<double> positions(size_t count, int64_t n) {
  std::vector<double> v(count);
  for (size_t k = 0; k < count; ++k) v[k] = static_cast<double>((k * 7 + 3) % n);
  return v;
}

}  // namespace

void add_linear_algebra(std::vector<Row>& rows) {
  for (bool tx : {false, true}) {
    for (bool tw : {false, true}) {
      const Shape xs = tx ? Shape{3, 9, 17} : Shape{3, 17, 9};
      const Shape ws = tw ? Shape{3, 13, 9} : Shape{3, 9, 13};
      rows.push_back({std::string("matmul batched") + (tx ? " xT" : "") + (tw ? " wT" : ""),
                      {uniform(xs), uniform(ws)},
                      [tx, tw](In in, Opts) {
                        return Out{raw::matmul(tx ? tr(in[0]) : in[0], tw ? tr(in[1]) : in[1])};
                      }});
    }
  }
  const Fn mm = [](In in, Opts) { return Out{raw::matmul(in[0], in[1])}; };
  rows.push_back({"matmul broadcast batch", {uniform({2, 1, 5, 7}), uniform({3, 7, 4})}, mm});
  rows.push_back({"matmul strided operands", {strided({6, 7}), transposed({7, 5})}, mm});
  rows.push_back({"matmul vector", {uniform({7}), uniform({7, 5})}, mm});
  rows.push_back({"matmul threaded", {uniform({128, 256}), uniform({256, 64})}, mm, 1e-4, 1e-5});
  for (int i = 0; i < diffvi::kActivationCount; ++i) {
    const Activation act = static_cast<Activation>(i);
    for (bool bias : {false, true}) {
      rows.push_back({std::string("linear ") + diffvi::activation_name(act) + (bias ? " bias" : ""),
                      {uniform({33, 40}), uniform({24, 40}), uniform({24})},
                      [act, bias](In in, Opts) {
                        return Out{raw::linear(in[0], in[1], bias ? in[2] : Tensor(), act)};
                      },
                      1e-4,
                      1e-5});
    }
  }
  rows.push_back(
      {"linear gelu threaded",
       {uniform({256, 256}), uniform({256, 256}), uniform({256})},
       [](In in, Opts) { return Out{raw::linear(in[0], in[1], in[2], Activation::gelu_erf)}; },
       1e-4,
       1e-5});
}

void add_nn(std::vector<Row>& rows) {
  // --- softmax and log-softmax, forward and backward, along the last and an inner dim.
  for (bool log : {false, true}) {
    const std::string name = log ? "log_softmax" : "softmax";
    for (int64_t dim : {-1, 1}) {
      rows.push_back({name + " dim " + std::to_string(dim),
                      {uniform({4, 3, 70}, -3, 3)},
                      [log, dim](In in, Opts) { return Out{raw::softmax(in[0], dim, log)}; }});
      rows.push_back({name + " backward dim " + std::to_string(dim),
                      {uniform({4, 3, 70}, -3, 3), uniform({4, 3, 70})},
                      [log, dim](In in, Opts) {
                        const Tensor y = raw::softmax(in[0], dim, log);
                        return Out{raw::softmax_backward(y, in[1], dim, log)};
                      }});
    }
    rows.push_back({name + " threaded", {uniform({512, 256}, -3, 3)}, [log](In in, Opts) {
                      return Out{raw::softmax(in[0], -1, log)};
                    }});
  }
  // --- layer norm (and group norm, a layer norm over each group's block), forward and backward.
  const auto layer_norm_rows = [&rows](const std::string& name, Shape x, Shape params, int64_t nd) {
    for (bool affine : {false, true}) {
      const std::string n = name + (affine ? " affine " : " ") + str(x);
      rows.push_back({n,
                      {uniform(x, -2, 3), uniform(params), uniform(params), uniform(x)},
                      [affine, nd](In in, Opts) {
                        const Tensor g = affine ? in[1] : Tensor(), b = affine ? in[2] : Tensor();
                        const raw::LayerNormOut o = raw::layer_norm(in[0], nd, g, b, 1e-5);
                        const raw::LayerNormGrads d = raw::layer_norm_backward(
                            in[3], in[0], o.mean, o.rstd, nd, g, affine, affine);
                        Out out{o.y, o.mean, o.rstd, d.dx};
                        if (affine) out.insert(out.end(), {d.dgamma, d.dbeta});
                        return out;
                      },
                      1e-4,
                      1e-4});
    }
  };
  layer_norm_rows("layer_norm", {6, 4, 50}, {4, 50}, 2);
  layer_norm_rows("layer_norm threaded", {512, 256}, {256}, 1);
  layer_norm_rows("group_norm", {2, 4, 3, 5, 5}, {3, 5, 5}, 3);  // [N, G, C/G, H, W]
  // --- convolution, forward with and without bias, and both backward kernels.
  struct ConvCase {
    Shape x, w;
    Conv2dParams p;
  };
  const ConvCase conv_cases[] = {
      {{2, 3, 6, 5}, {4, 3, 3, 3}, {1, 1, 1, 1, 1}},
      {{1, 2, 7, 7}, {3, 2, 3, 3}, {2, 2, 0, 0, 1}},
      {{1, 2, 8, 6}, {3, 2, 3, 2}, {2, 1, 1, 0, 1}},
      {{2, 4, 5, 5}, {6, 2, 3, 3}, {1, 1, 1, 1, 2}},
  };
  for (const ConvCase& c : conv_cases) {
    const Conv2dParams p = c.p;
    const std::string name = "conv2d x " + str(c.x) + " w " + str(c.w) + " stride " +
                             std::to_string(p.stride_h) + " pad " + std::to_string(p.pad_h) +
                             " groups " + std::to_string(p.groups);
    rows.push_back(
        {name,
         {uniform(c.x), uniform(c.w), uniform({c.w[0]})},
         [p](In in, Opts) {
           return Out{raw::conv2d(in[0], in[1], in[2], p), raw::conv2d(in[0], in[1], Tensor(), p)};
         },
         1e-4,
         1e-5});
    const Shape xs = c.x, ws = c.w;
    rows.push_back({name + " backward",
                    {uniform(c.x), uniform(c.w)},
                    [p, xs, ws](In in, Opts) {
                      const Tensor y = raw::conv2d(in[0], in[1], Tensor(), p);
                      const Tensor dy = raw::unary(diffvi::UnaryOp::sin, y);  // any dy will do
                      const raw::Conv2dWeightGrads g =
                          raw::conv2d_backward_weights(in[0], dy, ws, p, true);
                      return Out{raw::conv2d_backward_data(dy, in[1], xs, p), g.dw, g.dbias};
                    },
                    1e-4,
                    1e-5});
  }
  // --- pooling and upsampling (composites of views and reductions).
  rows.push_back({"avg_pool2d and upsample_nearest2d", {uniform({2, 3, 8, 6})}, [](In in, Opts) {
                    return Out{diffvi::avg_pool2d(in[0], 2), diffvi::upsample_nearest2d(in[0], 3)};
                  }});
  // --- indexing: repeated and unordered positions.
  for (int64_t dim = 0; dim < 3; ++dim) {
    rows.push_back({"index_select dim " + std::to_string(dim),
                    {transposed({4, 6, 5}), index({7}, {3, 0, 0, 2, 1, 1, 3})},
                    [dim](In in, Opts) { return Out{raw::index_select(in[0], dim, in[1])}; }});
  }
  rows.push_back(
      {"gather and scatter_add dim 1",
       {uniform({5, 6, 4}), index({5, 3, 4}, positions(60, 6)), uniform({5, 3, 4})},
       [](In in, Opts) {
         return Out{raw::gather(in[0], 1, in[1]), raw::scatter_add(in[0], 1, in[1], in[2])};
       },
       1e-6,
       1e-6});
  rows.push_back({"scatter_add i64 exact",
                  {index({5, 6, 4}, positions(120, 50)), index({5, 3, 4}, positions(60, 6)),
                   index({5, 3, 4}, positions(60, 90))},
                  [](In in, Opts) { return Out{raw::scatter_add(in[0], 1, in[1], in[2])}; },
                  0,
                  0,
                  /*f64=*/false});
  // --- AdamW over two parameters of different shapes.
  rows.push_back({"adamw",
                  {uniform({7, 5}), uniform({33}), uniform({7, 5}), uniform({33}), uniform({7, 5}),
                   uniform({33}), uniform({7, 5}, 0, 1), uniform({33}, 0, 1)},
                  [](In in, Opts) {
                    diffvi::AdamWConfig config;
                    config.lr = 1e-2;
                    config.weight_decay = 0.1;
                    config.step = 3;
                    std::vector<Tensor> p, g, m, v;
                    for (int k = 0; k < 2; ++k) {
                      p.push_back(raw::clone(in[k]));
                      g.push_back(in[2 + k]);
                      m.push_back(raw::clone(in[4 + k]));
                      v.push_back(raw::clone(in[6 + k]));
                    }
                    raw::adamw_(p, g, m, v, config);
                    return Out{p[0], p[1], m[0], m[1], v[0], v[1]};
                  },
                  1e-5,
                  1e-6});
}

}  // namespace parity
