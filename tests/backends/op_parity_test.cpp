// The op-parity table (op_parity.h) instantiated over every registered backend except the
// reference: the CPU backend at each of testutil::ParityThreadCounts(), the primitives-only test
// backend (the fused kernels' defaults), and CUDA when a device registered it. Each case builds
// its inputs on the host, moves them to the backend's device, lays them out as the row asks
// there, runs the op and compares every output with the reference backend's.
#include "op_parity.h"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "test_util.h"

namespace {

using diffvi::Device;
using diffvi::DType;
using diffvi::Tensor;
using parity::Layout;
using parity::Row;
namespace raw = diffvi::raw;

struct Case {
  size_t row;
  DType dtype;
};

struct Target {
  std::string backend;
  int threads;
};

// gtest prints a failing case's parameters with these (instead of their bytes).
void PrintTo(const Case& c, std::ostream* os) {
  *os << "'" << parity::rows()[c.row].op << "' in " << diffvi::dtype_name(c.dtype);
}
void PrintTo(const Target& t, std::ostream* os) {
  *os << t.backend << " at " << t.threads << " threads";
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (size_t i = 0; i < parity::rows().size(); ++i) {
    cases.push_back({i, DType::f32});
    if (parity::rows()[i].f64) cases.push_back({i, DType::f64});
  }
  return cases;
}

// Every registered backend but the oracle, whatever its device; host backends at each thread
// count (only the CPU backend reads it, but a new one may).
std::vector<Target> Targets() {
  std::vector<Target> targets;
  for (diffvi::Backend* b : diffvi::registered_backends()) {
    if (std::string(b->name()) == "reference") continue;
    if (b->device_type() != diffvi::DeviceType::cpu) {
      targets.push_back({b->name(), 1});
      continue;
    }
    for (int threads : testutil::ParityThreadCounts()) targets.push_back({b->name(), threads});
  }
  return targets;
}

// The host values of input `k` of a case: seeded uniform values, or the row's own.
Tensor HostInput(const parity::Arg& arg, DType dtype, uint64_t seed) {
  if (arg.is_index) {
    std::vector<int64_t> v(arg.values.begin(), arg.values.end());
    return diffvi::from_vector(v, arg.shape);
  }
  if (!arg.values.empty()) {
    return raw::to(diffvi::from_vector(arg.values, arg.shape, diffvi::TensorOptions(DType::f64)),
                   dtype);
  }
  diffvi::Generator gen(seed);
  return raw::to(diffvi::uniform(arg.shape, arg.lo, arg.hi, gen, diffvi::TensorOptions(DType::f64)),
                 dtype);
}

// `host` on `device`, stored as `layout` (on the backend under test, which does the copies).
Tensor Place(const Tensor& host, Layout layout, Device device) {
  const Tensor t = raw::to(host, device);
  if (layout == Layout::contiguous || t.dim() == 0 || t.numel() == 0) return t;
  if (layout == Layout::transposed && t.dim() >= 2) {
    return raw::transpose(raw::contiguous(raw::transpose(t, -1, -2)), -1, -2);
  }
  diffvi::Shape big = t.shape();
  big.back() *= 2;
  const Tensor storage =
      diffvi::full(big, 12345.0, diffvi::TensorOptions(t.dtype()).set_device(device));
  const Tensor view = raw::slice(storage, -1, 0, big.back(), 2);
  raw::copy_(view, t);
  return view;
}

std::vector<Tensor> RunOn(const Row& row, const std::vector<Tensor>& host, diffvi::Backend& backend,
                          int threads, DType dtype) {
  diffvi::BackendGuard guard(backend);
  testutil::ThreadCountGuard thread_guard(threads);
  const Device device{backend.device_type(), 0};
  std::vector<Tensor> in;
  for (size_t k = 0; k < host.size(); ++k) in.push_back(Place(host[k], row.args[k].layout, device));
  std::vector<Tensor> out = row.fn(in, diffvi::TensorOptions(dtype).set_device(device));
  for (Tensor& t : out) t = raw::to(t, Device::cpu());
  return out;
}

class OpParity : public ::testing::TestWithParam<std::tuple<Case, Target>> {};

TEST_P(OpParity, MatchesReference) {
  const auto& [c, target] = GetParam();
  const Row& row = parity::rows()[c.row];
  diffvi::Backend* backend = diffvi::find_backend(target.backend);
  ASSERT_NE(backend, nullptr);
  if (!backend->supports(c.dtype)) {
    GTEST_SKIP() << target.backend << " does not support " << diffvi::dtype_name(c.dtype);
  }
  std::vector<Tensor> host;
  for (size_t k = 0; k < row.args.size(); ++k) {
    host.push_back(HostInput(row.args[k], c.dtype, 1000 * c.row + k));
  }
  const std::vector<Tensor> ref = RunOn(row, host, *diffvi::find_backend("reference"), 1, c.dtype);
  const std::vector<Tensor> out = RunOn(row, host, *backend, target.threads, c.dtype);
  ASSERT_EQ(out.size(), ref.size());
  const bool f64 = c.dtype == DType::f64;
  const double rtol = f64 ? std::min(row.rtol, parity::kF64Tolerance) : row.rtol;
  const double atol = f64 ? std::min(row.atol, parity::kF64Tolerance) : row.atol;
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_TRUE(testutil::AllClose(out[i], ref[i], rtol, atol))
        << row.op << ", output " << i << ", on " << target.backend << " at " << target.threads
        << " threads";
  }
}

std::string Name(const ::testing::TestParamInfo<OpParity::ParamType>& info) {
  const auto& [c, target] = info.param;
  std::string name = parity::rows()[c.row].op + "_" + diffvi::dtype_name(c.dtype) + "_" +
                     target.backend + "_" + std::to_string(target.threads) + "t";
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return "r" + std::to_string(c.row) + "_" + name;
}

// The generators run when the tests are registered (after every static initialiser), so the
// backends this executable links are all there.
INSTANTIATE_TEST_SUITE_P(Backends, OpParity,
                         ::testing::Combine(::testing::ValuesIn(Cases()),
                                            ::testing::ValuesIn(Targets())),
                         Name);

// Without a device the CUDA backend does not register, so it has no rows above: say why.
TEST(OpParityTargets, CudaWhenPresent) {
  try {
    diffvi::backend_for(diffvi::DeviceType::cuda);
  } catch (const diffvi::DeviceError& e) {
    GTEST_SKIP() << "no CUDA rows: " << e.what();
  }
  EXPECT_NE(diffvi::find_backend("cuda"), nullptr);
}

// The fused kernels' defaults are only checked if the primitives-only backend is linked.
TEST(OpParityTargets, PrimitivesOnlyBackendIsATarget) {
  bool found = false;
  for (const Target& t : Targets()) found = found || t.backend == "primitives";
  EXPECT_TRUE(found) << "tests/backends/primitives_backend.cpp is not linked";
}

}  // namespace
