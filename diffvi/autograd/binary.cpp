// Binary ops with NumPy broadcasting; each operand's gradient is summed back to its shape.
#include "diffvi/autograd/ops.h"

namespace diffvi {
namespace {

// Elementwise derivative where the kernel's output is 0 or 1 per element (maximum/minimum).
Tensor mask_of(BinaryOp cmp, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  return raw::binary(cmp, x, y);
}

}  // namespace

Tensor add(const Tensor& x, const Tensor& y) {
  return record("add", raw::binary(BinaryOp::add, x, y), {x, y},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {sum_to(g, in[0].shape()), sum_to(g, in[1].shape())};
                });
}

Tensor sub(const Tensor& x, const Tensor& y) {
  return record("sub", raw::binary(BinaryOp::sub, x, y), {x, y},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  return {sum_to(g, in[0].shape()), sum_to(neg(g), in[1].shape())};
                });
}

Tensor mul(const Tensor& x, const Tensor& y) {
  return record("mul", raw::binary(BinaryOp::mul, x, y), {x, y},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &b = in[1];
                  return {a.requires_grad() ? sum_to(mul(g, b), a.shape()) : Tensor(),
                          b.requires_grad() ? sum_to(mul(g, a), b.shape()) : Tensor()};
                });
}

Tensor div(const Tensor& x, const Tensor& y) {
  return record("div", raw::binary(BinaryOp::div, x, y), {x, y},
                [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &b = in[1];
                  Tensor ga = div(g, b);
                  return {
                      a.requires_grad() ? sum_to(ga, a.shape()) : Tensor(),
                      b.requires_grad() ? sum_to(neg(mul(ga, div(a, b))), b.shape()) : Tensor()};
                });
}

Tensor pow(const Tensor& x, const Tensor& y) {
  return record("pow", raw::binary(BinaryOp::pow, x, y), {x, y},
                [](const TensorList& in, const Tensor& g, const Tensor& out) -> TensorList {
                  const Tensor &a = in[0], &b = in[1];
                  Tensor ga, gb;
                  if (a.requires_grad()) {
                    // d/da a^b = b a^(b-1), and 0 where b = 0 (not 0 * inf at a = 0), as the
                    // scalar pow's derivative is.
                    Tensor slope = mul(b, pow(a, sub(b, 1.0)));
                    slope = where(eq(b, zeros_like(b)), zeros_like(slope), slope);
                    ga = sum_to(mul(g, slope), a.shape());
                  }
                  if (b.requires_grad()) {
                    // d/db a^b = a^b log a; defined as 0 where a = 0 (the limit for b > 0).
                    Tensor safe_log = log(where(eq(a, zeros_like(a)), ones_like(a), a));
                    gb = sum_to(mul(g, mul(out, safe_log)), b.shape());
                  }
                  return {ga, gb};
                });
}

namespace {
Tensor extremum(BinaryOp op, const char* name, const Tensor& x, const Tensor& y) {
  return record(name, raw::binary(op, x, y), {x, y},
                [op](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
                  const Tensor &a = in[0], &b = in[1];
                  // Ties share the gradient equally, so the gradient is symmetric in a and b.
                  const BinaryOp wins = op == BinaryOp::maximum ? BinaryOp::gt : BinaryOp::lt;
                  Tensor tie = mask_of(BinaryOp::eq, a, b);
                  Tensor wa = add(mask_of(wins, a, b), mul(tie, 0.5));
                  Tensor wb = add(mask_of(wins, b, a), mul(tie, 0.5));
                  return {sum_to(mul(g, wa), a.shape()), sum_to(mul(g, wb), b.shape())};
                });
}
}  // namespace

Tensor maximum(const Tensor& x, const Tensor& y) {
  return extremum(BinaryOp::maximum, "maximum", x, y);
}
Tensor minimum(const Tensor& x, const Tensor& y) {
  return extremum(BinaryOp::minimum, "minimum", x, y);
}

Tensor where(const Tensor& cond, const Tensor& x, const Tensor& y) {
  Tensor c = detach(cond);
  return record(
      "where", raw::where(c, x, y), {x, y, c},
      [](const TensorList& in, const Tensor& g, const Tensor&) -> TensorList {
        const Tensor &a = in[0], &b = in[1], &c = in[2];
        Tensor zero = zeros_like(g);
        return {sum_to(where(c, g, zero), a.shape()), sum_to(where(c, zero, g), b.shape())};
      });
}

Tensor eq(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::eq, x, y); }
Tensor ne(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::ne, x, y); }
Tensor lt(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::lt, x, y); }
Tensor le(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::le, x, y); }
Tensor gt(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::gt, x, y); }
Tensor ge(const Tensor& x, const Tensor& y) { return raw::binary(BinaryOp::ge, x, y); }

Tensor operator+(const Tensor& x, const Tensor& y) { return add(x, y); }
Tensor operator-(const Tensor& x, const Tensor& y) { return sub(x, y); }
Tensor operator*(const Tensor& x, const Tensor& y) { return mul(x, y); }
Tensor operator/(const Tensor& x, const Tensor& y) { return div(x, y); }

}  // namespace diffvi
