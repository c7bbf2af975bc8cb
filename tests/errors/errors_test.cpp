// Typed errors whose messages name the op and the arguments' shapes and dtypes.
#include <gtest/gtest.h>

#include <string>

#include "diffvi/backends/reference/reference_backend.h"
#include "errors/expect_error.h"
#include "test_util.h"

using diffvi::DType;
using diffvi::Tensor;
using errtest::MessageOf;

namespace {

// A backend like the reference one but without f64, as a small accelerator might be.
class NoF64Backend : public diffvi::ReferenceBackend {
 public:
  const char* name() const override { return "test-no-f64"; }
  bool supports(DType dtype) const override { return dtype != DType::f64; }
};
NoF64Backend& NoF64() {
  static NoF64Backend* backend = [] {
    auto* b = new NoF64Backend();  // registered backends live for the whole process
    diffvi::register_backend(b, /*make_default=*/false);
    return b;
  }();
  return *backend;
}

TEST(Errors, MatmulShapeMismatchNamesBothShapes) {
  const std::string msg = MessageOf<diffvi::ShapeError>([] {
    diffvi::matmul(diffvi::zeros({2, 3}), diffvi::zeros({4, 5}));
  });
  EXPECT_CONTAINS(msg, "matmul");
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "[4, 5]");
  const std::string batch = MessageOf<diffvi::ShapeError>([] {
    diffvi::matmul(diffvi::zeros({2, 3, 4}), diffvi::zeros({3, 4, 5}));
  });
  EXPECT_CONTAINS(batch, "matmul");
  EXPECT_CONTAINS(batch, "[2]");
  EXPECT_CONTAINS(batch, "[3]");
  const std::string lin = MessageOf<diffvi::ShapeError>([] {
    diffvi::linear(diffvi::zeros({2, 3}), diffvi::zeros({5, 4}));
  });
  EXPECT_CONTAINS(lin, "linear");
  EXPECT_CONTAINS(lin, "[2, 3]");
  EXPECT_CONTAINS(lin, "[5, 4]");
}

TEST(Errors, BroadcastingFailureNamesOpAndShapes) {
  const std::string msg = MessageOf<diffvi::ShapeError>([] {
    diffvi::add(diffvi::zeros({2, 3}), diffvi::zeros({4, 3}));
  });
  EXPECT_CONTAINS(msg, "add");
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "[4, 3]");
  const std::string w = MessageOf<diffvi::ShapeError>([] {
    diffvi::where(diffvi::zeros({3}), diffvi::zeros({2, 3}), diffvi::zeros({2, 4}));
  });
  EXPECT_CONTAINS(w, "where");
  EXPECT_CONTAINS(w, "[2, 4]");
  const std::string e = MessageOf<diffvi::ShapeError>([] {
    diffvi::expand(diffvi::zeros({3, 2}), {3, 4});
  });
  EXPECT_CONTAINS(e, "expand");
  EXPECT_CONTAINS(e, "[3, 2]");
  EXPECT_CONTAINS(e, "[3, 4]");
}

TEST(Errors, DtypeMismatchNamesBothDtypes) {
  const std::string msg = MessageOf<diffvi::DTypeError>(
      [] { diffvi::add(diffvi::zeros({2}), diffvi::zeros({2}, DType::f64)); });
  EXPECT_CONTAINS(msg, "add");
  EXPECT_CONTAINS(msg, "[2] f32 cpu");
  EXPECT_CONTAINS(msg, "[2] f64 cpu");
  const std::string mm = MessageOf<diffvi::DTypeError>([] {
    diffvi::matmul(diffvi::zeros({2, 2}, DType::f64), diffvi::zeros({2, 2}));
  });
  EXPECT_CONTAINS(mm, "matmul");
  EXPECT_CONTAINS(mm, "f64");
  EXPECT_CONTAINS(mm, "f32");
  const std::string idx = MessageOf<diffvi::DTypeError>(
      [] { diffvi::index_select(diffvi::zeros({3}), 0, diffvi::zeros({2})); });
  EXPECT_CONTAINS(idx, "index_select");
  EXPECT_CONTAINS(idx, "i64");
}

TEST(Errors, F64OnABackendWithoutItNamesBackendAndDtype) {
  NoF64();  // registers the backend so the guard below finds it by name
  diffvi::BackendGuard guard("test-no-f64");
  const std::string msg = MessageOf<diffvi::DTypeError>([] { diffvi::zeros({2, 3}, DType::f64); });
  EXPECT_CONTAINS(msg, "test-no-f64");
  EXPECT_CONTAINS(msg, "f64");
  EXPECT_NO_THROW(diffvi::exp(diffvi::zeros({2, 3})));  // f32 still works
}

TEST(Errors, OpOnF64InputUnderABackendWithoutItNamesTheOp) {
  const Tensor x = diffvi::zeros({2, 3}, DType::f64);  // made on the default backend
  diffvi::BackendGuard guard(NoF64());
  const std::string msg = MessageOf<diffvi::DTypeError>([&] { diffvi::exp(x); });
  EXPECT_CONTAINS(msg, "test-no-f64");
  EXPECT_CONTAINS(msg, "f64");
  EXPECT_CONTAINS(msg, "exp");
  EXPECT_CONTAINS(msg, "[2, 3]");
}

TEST(Errors, DimOutOfRange) {
  const Tensor x = diffvi::zeros({2, 3});
  for (const auto& [op, f] : std::vector<std::pair<std::string, std::function<void()>>>{
           {"sum", [&] { diffvi::sum(x, {2}); }},
           {"softmax", [&] { diffvi::softmax(x, -3); }},
           {"transpose", [&] { diffvi::transpose(x, 0, 5); }},
           {"cumsum", [&] { diffvi::cumsum(x, 2); }},
           {"cat", [&] {
              diffvi::cat({x, x}, 2);
            }}}) {
    const std::string msg = MessageOf<diffvi::IndexError>(f);
    EXPECT_CONTAINS(msg, op);
    EXPECT_CONTAINS(msg, "rank 2");
  }
  // unsqueeze accepts rank + 1 positions.
  const std::string u = MessageOf<diffvi::IndexError>([&] { diffvi::unsqueeze(x, 4); });
  EXPECT_CONTAINS(u, "unsqueeze");
  EXPECT_CONTAINS(u, "dim 4");
}

TEST(Errors, IndexOutOfRange) {
  const Tensor x = diffvi::zeros({3, 4});
  const std::string msg = MessageOf<diffvi::IndexError>([&] {
    diffvi::index_select(x, 0, diffvi::from_vector(std::vector<int64_t>{0, 5}, {2}));
  });
  EXPECT_CONTAINS(msg, "index_select");
  EXPECT_CONTAINS(msg, "5");
  EXPECT_CONTAINS(msg, "size 3");
  const std::string neg = MessageOf<diffvi::IndexError>([&] {
    diffvi::gather(x, 1, diffvi::from_vector(std::vector<int64_t>{-1}, {1, 1}));
  });
  EXPECT_CONTAINS(neg, "gather");
  EXPECT_CONTAINS(neg, "-1");
  const std::string oh = MessageOf<diffvi::IndexError>(
      [] { diffvi::one_hot(diffvi::from_vector(std::vector<int64_t>{3}, {1}), 3); });
  EXPECT_CONTAINS(oh, "one_hot");
  const std::string sel = MessageOf<diffvi::Error>([&] { diffvi::select(x, 0, 3); });
  EXPECT_CONTAINS(sel, "3");
}

TEST(Errors, ReshapeToWrongElementCount) {
  const std::string msg = MessageOf<diffvi::ShapeError>([] {
    diffvi::reshape(diffvi::zeros({2, 3}), {4, 2});
  });
  EXPECT_CONTAINS(msg, "reshape");
  EXPECT_CONTAINS(msg, "[2, 3]");
  EXPECT_CONTAINS(msg, "[4, 2]");
  EXPECT_CONTAINS(msg, "6");
  const std::string infer = MessageOf<diffvi::ShapeError>([] {
    diffvi::view(diffvi::zeros({2, 3}), {4, -1});
  });
  EXPECT_CONTAINS(infer, "view");
  EXPECT_CONTAINS(infer, "[2, 3]");
  const std::string strided = MessageOf<diffvi::ShapeError>([] {
    diffvi::view(diffvi::transpose(diffvi::zeros({2, 3}), 0, 1), {6});
  });
  EXPECT_CONTAINS(strided, "view");
  EXPECT_CONTAINS(strided, "reshape");  // the message suggests the fix
}

TEST(Errors, BackwardThroughATensorThatDoesNotRequireGrad) {
  const Tensor x = diffvi::ones({2, 3});
  const std::string msg =
      MessageOf<diffvi::AutogradError>([&] { diffvi::backward(diffvi::sum(diffvi::exp(x))); });
  EXPECT_CONTAINS(msg, "does not require grad");
  EXPECT_CONTAINS(msg, "[] f32 cpu");
  const std::string g =
      MessageOf<diffvi::AutogradError>([&] { diffvi::grad({diffvi::sum(x)}, {x}); });
  EXPECT_CONTAINS(g, "does not require grad");
  // Under no-grad, outputs of a parameter do not require grad either.
  Tensor w = testutil::Leaf(diffvi::ones({2}));
  diffvi::NoGradGuard guard;
  EXPECT_THROW(diffvi::backward(diffvi::sum(w)), diffvi::AutogradError);
}

TEST(Errors, OtherShapeChecksNameTheirShapes) {
  const std::string c = MessageOf<diffvi::ShapeError>([] {
    diffvi::cat({diffvi::zeros({2, 3}), diffvi::zeros({2, 4})}, 0);
  });
  EXPECT_CONTAINS(c, "cat");
  EXPECT_CONTAINS(c, "[2, 4]");
  const std::string ln = MessageOf<diffvi::ShapeError>([] {
    diffvi::layer_norm(diffvi::zeros({2, 3}), {3}, diffvi::ones({4}));
  });
  EXPECT_CONTAINS(ln, "layer_norm");
  EXPECT_CONTAINS(ln, "[4]");
  const std::string fv = MessageOf<diffvi::ShapeError>([] {
    diffvi::from_vector(std::vector<double>{1, 2, 3}, {2, 2});
  });
  EXPECT_CONTAINS(fv, "[2, 2]");
  const std::string sc = MessageOf<diffvi::ShapeError>([] {
    diffvi::scatter_add(diffvi::zeros({2, 3}), 1,
                        diffvi::from_vector(std::vector<int64_t>{0, 1}, {1, 2}),
                        diffvi::zeros({2, 2}));
  });
  EXPECT_CONTAINS(sc, "scatter_add");
  EXPECT_CONTAINS(sc, "[1, 2]");
}

TEST(Errors, SetGradOfTheWrongShapeOrDtypeNamesBothTensors) {
  // A wrong gradient used to be stored and only surface steps later, inside an optimizer.
  Tensor p = diffvi::zeros({2, 3});
  p.set_requires_grad(true);
  const std::string shape = MessageOf<diffvi::ShapeError>([&] {
    p.set_grad(diffvi::zeros({3, 2}));
  });
  EXPECT_CONTAINS(shape, "set_grad");
  EXPECT_CONTAINS(shape, "[3, 2] f32 cpu");
  EXPECT_CONTAINS(shape, "[2, 3] f32 cpu");
  const std::string dtype = MessageOf<diffvi::DTypeError>([&] {
    p.set_grad(diffvi::zeros({2, 3}, DType::f64));
  });
  EXPECT_CONTAINS(dtype, "set_grad");
  EXPECT_CONTAINS(dtype, "[2, 3] f64 cpu");
  EXPECT_CONTAINS(dtype, "[2, 3] f32 cpu");
  EXPECT_FALSE(p.grad().defined());  // a rejected gradient is not stored
  const Tensor g = diffvi::ones({2, 3});
  p.set_grad(g);
  EXPECT_TRUE(p.grad().is_same(g));
  p.set_grad(Tensor());  // clearing stays allowed
  EXPECT_FALSE(p.grad().defined());
}

TEST(Errors, ErrorContextPrefixesMessages) {
  diffvi::ErrorContext outer("net");
  diffvi::ErrorContext inner("layers.2");
  const std::string msg = MessageOf<diffvi::ShapeError>([] {
    diffvi::matmul(diffvi::zeros({2, 3}), diffvi::zeros({4, 5}));
  });
  EXPECT_EQ(msg.rfind("net.layers.2: ", 0), 0u) << msg;
}

TEST(Errors, ErrorsAreTyped) {
  // Every diffvi error is a diffvi::Error and a std::runtime_error.
  EXPECT_THROW(diffvi::add(diffvi::zeros({2}), diffvi::zeros({3})), diffvi::Error);
  EXPECT_THROW(diffvi::add(diffvi::zeros({2}), diffvi::zeros({3})), std::runtime_error);
  EXPECT_THROW(diffvi::zeros({2}).item(), diffvi::ValueError);
  EXPECT_THROW(diffvi::Tensor().dim(), diffvi::ValueError);
}

}  // namespace
