// The op-parity table, in the manner of ggml's test-backend-ops: rows of {op, inputs (shape,
// value range, layout), tolerance}, each run on every registered backend and compared with the
// reference backend on the same inputs (op_parity_test.cpp). The rows are in op_parity_rows.cpp;
// adding an op adds rows there, and a new backend is tested by registering it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "diffvi/diffvi.h"

namespace parity {

using diffvi::Shape;
using diffvi::Tensor;

// How an input is stored on the backend under test (values are the same in every layout).
enum class Layout {
  contiguous,
  strided,     // every other element of a buffer twice as long in the last dim
  transposed,  // stored transposed in its last two dims
};

struct Arg {
  Shape shape;
  double lo = -1, hi = 1;  // uniform values in [lo, hi), in the case's floating dtype
  Layout layout = Layout::contiguous;
  std::vector<double> values = {};  // when given: these values instead (NaN, inf, ties)
  bool is_index = false;            // an i64 input holding `values` (indices, integer data)
};

inline Arg uniform(Shape shape, double lo = -1, double hi = 1, Layout layout = Layout::contiguous) {
  return Arg{std::move(shape), lo, hi, layout};
}
inline Arg strided(Shape shape, double lo = -1, double hi = 1) {
  return uniform(std::move(shape), lo, hi, Layout::strided);
}
inline Arg transposed(Shape shape, double lo = -1, double hi = 1) {
  return uniform(std::move(shape), lo, hi, Layout::transposed);
}
inline Arg index(Shape shape, std::vector<double> values) {
  return Arg{std::move(shape), 0, 0, Layout::contiguous, std::move(values), true};
}

// The op: inputs (on the backend's device, laid out as asked) and the options of the case
// (dtype, device) for ops that create tensors -> every output to compare.
using Fn =
    std::function<std::vector<Tensor>(const std::vector<Tensor>&, const diffvi::TensorOptions&)>;

struct Row {
  std::string op;  // what and how, e.g. "matmul xT [3, 9, 17] [3, 9, 13]"
  std::vector<Arg> args;
  Fn fn;
  double rtol = 1e-5, atol = 1e-5;  // in f32; f64 cases use kF64Tolerance
  bool f64 = true;                  // run in f64 too (integer-only rows run once)
};

inline constexpr double kF64Tolerance = 1e-10;

const std::vector<Row>& rows();

}  // namespace parity
