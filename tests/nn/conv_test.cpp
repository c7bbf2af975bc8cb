// Conv2d: the kernels of every CPU-side backend against a direct loop written here, the CPU
// backward kernels against the reference, f64 gradchecks of the differentiable op (first and
// second order), error messages, and the nn::Conv2d module.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nn_test_util.h"

namespace nn = diffvi::nn;
using diffvi::Conv2dParams;
using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using nntest::Values;
using testutil::AllClose;

namespace {

// One geometry of the test matrix.
struct Case {
  Shape x, w;
  Conv2dParams p;
  bool bias;
};

std::vector<Case> Cases() {
  return {
      {{2, 3, 6, 5}, {4, 3, 3, 3}, {1, 1, 0, 0, 1}, true},   // valid
      {{2, 3, 6, 5}, {4, 3, 3, 3}, {1, 1, 1, 1, 1}, true},   // same padding
      {{1, 2, 7, 7}, {3, 2, 3, 3}, {2, 2, 0, 0, 1}, false},  // stride 2, a row left over
      {{1, 2, 8, 6}, {3, 2, 3, 2}, {2, 1, 1, 0, 1}, true},   // anisotropic everything
      {{2, 4, 5, 5}, {6, 2, 3, 3}, {1, 1, 1, 1, 2}, true},   // groups
      {{3, 5, 4, 4}, {2, 5, 1, 1}, {1, 1, 0, 0, 1}, true},   // 1x1
  };
}

std::string Name(const Case& c) {
  return "x " + diffvi::shape_str(c.x) + " w " + diffvi::shape_str(c.w) + " stride (" +
         std::to_string(c.p.stride_h) + "," + std::to_string(c.p.stride_w) + ") pad (" +
         std::to_string(c.p.pad_h) + "," + std::to_string(c.p.pad_w) + ") groups " +
         std::to_string(c.p.groups);
}

// The definition of a convolution, on host vectors in double.
Tensor DirectConv(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dParams& p) {
  const std::vector<double> xv = Values(x), wv = Values(w);
  const std::vector<double> bv = b.defined() ? Values(b) : std::vector<double>();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = w.size(0), cg = w.size(1), kh = w.size(2), kw = w.size(3);
  const int64_t oh = (h + 2 * p.pad_h - kh) / p.stride_h + 1;
  const int64_t ow = (wd + 2 * p.pad_w - kw) / p.stride_w + 1;
  std::vector<double> y(n * o * oh * ow);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t io = 0; io < o; ++io)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bv.empty() ? 0.0 : bv[io];
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t a = 0; a < kh; ++a)
              for (int64_t bb = 0; bb < kw; ++bb) {
                const int64_t r = i * p.stride_h - p.pad_h + a, s = j * p.stride_w - p.pad_w + bb;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                const int64_t ch = (io / (o / p.groups)) * cg + ic;
                acc +=
                    xv[((in * c + ch) * h + r) * wd + s] * wv[((io * cg + ic) * kh + a) * kw + bb];
              }
          y[((in * o + io) * oh + i) * ow + j] = acc;
        }
  return diffvi::from_vector(y, {n, o, oh, ow}, diffvi::TensorOptions(x.dtype()));
}

TEST(Conv2dKernels, ForwardMatchesDirectLoopOnEveryBackend) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(Name(c));
    for (DType dt : {DType::f32, DType::f64}) {
      const Tensor x = testutil::Uniform(c.x, 1, dt), w = testutil::Uniform(c.w, 2, dt);
      const Tensor b = c.bias ? testutil::Uniform({c.w[0]}, 3, dt) : Tensor();
      const Tensor expected = DirectConv(x, w, b, c.p);
      const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
      for (const char* backend : {"reference", "cpu"}) {
        SCOPED_TRACE(backend);
        const Tensor y =
            testutil::OnBackend(backend, [&] { return diffvi::raw::conv2d(x, w, b, c.p); });
        EXPECT_TRUE(AllClose(y, expected, tol, tol));
      }
    }
  }
}

TEST(Conv2dKernels, NonContiguousOperandsAreHonoured) {
  const Case c = Cases()[1];
  const Tensor x = testutil::Uniform(c.x, 4), w = testutil::Uniform(c.w, 5);
  const Tensor b = testutil::Uniform({c.w[0]}, 6);
  const Tensor expected = DirectConv(x, w, b, c.p);
  EXPECT_TRUE(AllClose(diffvi::conv2d(testutil::StridedCopy(x), testutil::TransposedCopy(w),
                                      testutil::StridedCopy(b), c.p),
                       expected, 1e-5, 1e-5));
}

TEST(Conv2dKernels, CpuBackwardMatchesReference) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(Name(c));
    const std::vector<Tensor> inputs = {testutil::Uniform(c.x, 7), testutil::Uniform(c.w, 8),
                                        testutil::Uniform({c.w[0]}, 9)};
    const Conv2dParams p = c.p;
    EXPECT_TRUE(testutil::BackwardBackendsMatchReference(
        [p](const std::vector<Tensor>& in) { return diffvi::conv2d(in[0], in[1], in[2], p); },
        inputs, 1e-4, 1e-5));
  }
}

TEST(Conv2dOp, GradcheckF64) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(Name(c));
    std::vector<Tensor> inputs = {testutil::Leaf(testutil::Uniform(c.x, 10, DType::f64)),
                                  testutil::Leaf(testutil::Uniform(c.w, 11, DType::f64))};
    if (c.bias) inputs.push_back(testutil::Leaf(testutil::Uniform({c.w[0]}, 12, DType::f64)));
    const Conv2dParams p = c.p;
    EXPECT_GRADCHECK(
        [p](const std::vector<Tensor>& in) {
          return diffvi::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), p);
        },
        inputs);
  }
}

TEST(Conv2dOp, SecondOrderGradcheck) {
  // f(x, w) = d/dx sum(conv(x, w)²) with create_graph: differentiating it runs the backward ops'
  // own backwards (conv2d, backward-data and backward-weights again).
  const Conv2dParams p{2, 1, 1, 0, 1};
  std::vector<Tensor> inputs = {testutil::Leaf(testutil::Uniform({1, 2, 5, 4}, 13, DType::f64)),
                                testutil::Leaf(testutil::Uniform({2, 2, 3, 2}, 14, DType::f64)),
                                testutil::Leaf(testutil::Uniform({2}, 15, DType::f64))};
  for (int which = 0; which < 2; ++which) {
    SCOPED_TRACE(which == 0 ? "grad x" : "grad w");
    EXPECT_TRUE(testutil::GradcheckOn(
        "reference",
        [&](const std::vector<Tensor>& in) {
          // gradcheck's numeric pass runs under no-grad on plain copies: the inner grad still needs
          // a graph and a leaf to differentiate with respect to.
          diffvi::EnableGradGuard enable;
          std::vector<Tensor> v = in;
          if (!v[which].requires_grad()) v[which] = testutil::Leaf(v[which]);
          Tensor y = diffvi::conv2d(v[0], v[1], v[2], p);
          diffvi::GradOptions o;
          o.create_graph = true;
          o.retain_graph = true;  // the result still depends on y's graph
          return diffvi::grad({diffvi::sum(diffvi::square(y))}, {v[which]}, o)[0];
        },
        inputs));
  }
}

TEST(Conv2dOp, ErrorsNameTheShapes) {
  const Tensor x = testutil::Uniform({1, 3, 5, 5}, 1), w = testutil::Uniform({4, 2, 3, 3}, 2);
  try {
    diffvi::conv2d(x, w);
    FAIL() << "expected ShapeError";
  } catch (const diffvi::ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("conv2d"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[1, 3, 5, 5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 2, 3, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW(diffvi::conv2d(testutil::Uniform({3, 5, 5}, 1), w), diffvi::ShapeError);
  EXPECT_THROW(diffvi::conv2d(x, testutil::Uniform({4, 3, 7, 7}, 1)), diffvi::ShapeError);
  EXPECT_THROW(diffvi::conv2d(x, testutil::Uniform({4, 3, 3, 3}, 1), testutil::Uniform({3}, 1)),
               diffvi::ShapeError);
  EXPECT_THROW(diffvi::conv2d(x, testutil::Uniform({4, 3, 3, 3}, 1), {}, 0), diffvi::ShapeError);
  EXPECT_THROW(diffvi::conv2d(x, testutil::Uniform({4, 3, 3, 3}, 1, DType::f64)),
               diffvi::DTypeError);
}

TEST(Conv2dModule, DefaultInitShapesForwardAndGradcheck) {
  diffvi::Generator gen(3);
  nn::Conv2d conv(4, 6, 3, nn::Conv2dOptions().set_padding(1).set_stride(2).set_groups(2), gen);
  EXPECT_EQ(conv.weight.shape(), (Shape{6, 2, 3, 3}));
  const double bound = 1 / std::sqrt(2.0 * 9.0);  // fan_in = in/groups · k²
  for (double v : Values(conv.weight)) EXPECT_LE(std::abs(v), bound);
  for (double v : Values(conv.bias)) EXPECT_LE(std::abs(v), bound);
  const Tensor x = testutil::Uniform({2, 4, 7, 7}, 4);
  const Tensor y = conv(x);
  EXPECT_EQ(y.shape(), (Shape{2, 6, 4, 4}));
  EXPECT_TRUE(AllClose(y, DirectConv(x, conv.weight, conv.bias, {2, 2, 1, 1, 2}), 1e-5, 1e-5));
  EXPECT_NE(conv.str().find("Conv2d(4, 6, kernel_size=3, stride=2, padding=1, groups=2"),
            std::string::npos)
      << conv.str();
  conv.to(DType::f64);
  EXPECT_TRUE(nntest::ModuleGradcheck(conv, testutil::Uniform({1, 4, 5, 5}, 5, DType::f64)));
  EXPECT_THROW(nn::Conv2d(3, 4, 3, nn::Conv2dOptions().set_groups(2)), diffvi::ValueError);
}

TEST(Conv2dModule, ErrorNamesModulePath) {
  nn::Sequential seq({std::make_shared<nn::Conv2d>(3, 4, 3)});
  seq.set_name("net");
  try {
    seq(testutil::Uniform({1, 2, 5, 5}, 1));
    FAIL() << "expected ShapeError";
  } catch (const diffvi::ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("net.0"), std::string::npos) << e.what();
  }
}

}  // namespace
