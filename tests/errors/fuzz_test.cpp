// Random shapes, dtypes and arguments thrown at the tensor API, as a careless user would: every
// failure must be one of the library's typed errors (a diffvi::Error), never another exception, a
// crash or, under the sanitizers, undefined behaviour. Seeded and deterministic.
//
// The one thing the test steers clear of is a request that is valid but merely large (between
// kSmall elements and 2^63 bytes): that is a real allocation which the OS may or may not grant,
// and which ASan aborts on by design. Requests whose byte count exceeds 2^63 - 1 are made freely:
// the library must reject them before anything is allocated.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "diffvi/diffvi.h"

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;

namespace {

constexpr int64_t kSmall = int64_t{1} << 13;  // the most elements a test tensor may have
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int kCreations = 5000, kChains = 50000, kOpsPerChain = 4;

// What a shape asks for: how its allocation should end.
enum class Fate {
  negative,   // a negative dim: ShapeError
  empty,      // zero elements: nothing to allocate (huge other dims may still fail, typed)
  small,      // at most kSmall elements: must succeed
  too_large,  // more than 2^63 - 1 bytes or elements: ValueError before any allocation
  large,      // valid and allocatable in principle: never requested here
};

Fate FateOf(const Shape& shape, size_t itemsize) {
  for (int64_t d : shape)
    if (d < 0) return Fate::negative;
  for (int64_t d : shape)
    if (d == 0) return Fate::empty;
  __int128 n = 1;
  for (int64_t d : shape) n = std::min<__int128>(n * d, __int128{1} << 64);  // capped: no overflow
  if (n <= kSmall) return Fate::small;
  return n * static_cast<__int128>(itemsize) > kMax ? Fate::too_large : Fate::large;
}
bool Affordable(int64_t numel) { return numel <= kSmall || numel >= (int64_t{1} << 61); }

class Fuzzer {
 public:
  explicit Fuzzer(uint64_t seed) : rng_(seed) {}

  uint64_t Next() { return rng_(); }
  int64_t Pick(int64_t n) { return static_cast<int64_t>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <class T>
  T OneOf(const std::vector<T>& v) {
    return v[Pick(static_cast<int64_t>(v.size()))];
  }

  int64_t SmallDim() { return OneOf<int64_t>({0, 1, 1, 2, 2, 3, 3, 4}); }
  int64_t HugeDim() {
    return OneOf<int64_t>({int64_t{1} << 31, int64_t{1} << 32, int64_t{1} << 40, int64_t{1} << 61,
                           int64_t{1} << 62, kMax});
  }
  int64_t AnyDim() {
    const int64_t r = Pick(100);
    if (r < 75) return SmallDim();
    if (r < 85) return OneOf<int64_t>({-1, -2, -7, kMin});
    return HugeDim();
  }
  // Any integer argument: a dim, an index, a size, a step.
  int64_t AnyInt() {
    const int64_t r = Pick(100);
    if (r < 70) return Pick(9) - 4;
    if (r < 85) return Pick(40) - 20;
    return OneOf<int64_t>(
        {kMin, kMin + 1, -(int64_t{1} << 62), int64_t{1} << 31, int64_t{1} << 62, kMax - 1, kMax});
  }
  double AnyDouble() {
    return OneOf<double>({0.0, 1.0, -1.0, 2.5, -3.0, 0.5, 1e-300, 1e19, -1e19, 1.7e308, -1.7e308,
                          INFINITY, -INFINITY, std::nan("")});
  }
  DType AnyDType() { return OneOf<DType>({DType::f32, DType::f32, DType::f64, DType::i64}); }

  Shape AnyShape() {
    Shape s(Pick(9));  // ranks 0-8
    for (int64_t& d : s) d = AnyDim();
    return s;
  }
  // A shape with at most kSmall elements (ranks 0-8).
  Shape SmallShape() {
    for (;;) {
      Shape s(Pick(9));
      for (int64_t& d : s) d = SmallDim();
      if (diffvi::numel(s) <= kSmall) return s;
    }
  }
  // A target for reshape / view / expand: mostly plausible, sometimes anything.
  Shape TargetShape(const Tensor& x) {
    const int64_t r = Pick(100);
    if (r < 30) {  // x's shape with one dim replaced by -1
      Shape s = x.shape();
      if (!s.empty()) s[Pick(static_cast<int64_t>(s.size()))] = -1;
      return s;
    }
    if (r < 50) return {x.numel()};
    if (r < 70) {  // x's shape with dims inserted in front (what expand wants)
      Shape s = x.shape();
      for (int64_t k = Pick(3); k > 0; --k) s.insert(s.begin(), Chance(70) ? SmallDim() : AnyDim());
      return s;
    }
    return AnyShape();
  }
  std::vector<int64_t> AnyDims(int64_t rank) {
    std::vector<int64_t> dims(Pick(4));
    for (int64_t& d : dims) d = Chance(80) && rank > 0 ? Pick(2 * rank + 1) - rank : AnyInt();
    return dims;
  }
  int64_t AnyDimIndex(int64_t rank) {
    return Chance(85) ? Pick(2 * rank + 2) - rank - 1 : AnyInt();
  }

  // A tensor for the op chains: small and real, or a huge broadcast view of a small one.
  Tensor AnyTensor() {
    const DType dt = AnyDType();
    const Shape s = SmallShape();
    Tensor t = dt == DType::i64 ? diffvi::zeros(s, dt)
                                : diffvi::uniform(s, -2, 2, gen_, diffvi::TensorOptions(dt));
    if (Chance(25) && t.dim() > 1) t = diffvi::transpose(t, 0, -1);  // not contiguous
    if (Chance(10)) {
      Shape big = s;
      for (int64_t& d : big)
        if (d == 1) d = HugeDim();
      big.insert(big.begin(), HugeDim());
      t = diffvi::expand(t, big);  // may throw (a typed error) when the count overflows
    }
    return t;
  }
  Tensor IndexTensor(int64_t limit) {
    std::vector<int64_t> v(Pick(5));
    for (int64_t& i : v) i = Chance(85) ? Pick(std::max<int64_t>(limit, 1)) : AnyInt();
    return diffvi::from_vector(v, {static_cast<int64_t>(v.size())});
  }

  diffvi::Generator& gen() { return gen_; }

 private:
  std::mt19937_64 rng_;
  diffvi::Generator gen_{7};
};

std::string Describe(const Shape& s) { return diffvi::shape_str(s); }
std::string Describe(const Tensor& t) { return t.defined() ? diffvi::describe(t) : "undefined"; }

// Runs f; a diffvi::Error is a pass, anything else a failure naming the call. Returns whether f
// returned normally.
struct Tally {
  int ok = 0, typed = 0;
  template <class F>
  bool Run(const std::string& call, F&& f) {
    try {
      f();
      ++ok;
      return true;
    } catch (const diffvi::Error&) {
      ++typed;
    } catch (const std::exception& e) {
      ADD_FAILURE() << call << ": untyped " << typeid(e).name() << ": " << e.what();
    } catch (...) {
      ADD_FAILURE() << call << ": a non-std exception";
    }
    return false;
  }
};

TEST(Fuzz, CreationRejectsBadAndHugeShapesWithTypedErrors) {
  Fuzzer fz(20261204);
  Tally tally;
  int skipped = 0;
  for (int i = 0; i < kCreations; ++i) {
    const Shape shape = fz.AnyShape();
    const DType dt = fz.AnyDType();
    const Fate fate = FateOf(shape, diffvi::dtype_size(dt));
    if (fate == Fate::large) {
      ++skipped;
      continue;
    }
    const int64_t which = fz.Pick(6);
    std::ostringstream call;
    call << "creation #" << which << " of " << Describe(shape) << " " << diffvi::dtype_name(dt);
    Tensor out;
    const bool returned = tally.Run(call.str(), [&] {
      switch (which) {
        case 0:
          out = diffvi::zeros(shape, dt);
          break;
        case 1:
          out = diffvi::ones(shape, dt);
          break;
        case 2:
          out = diffvi::full(shape, fz.AnyDouble(), dt);
          break;
        case 3:
          out = diffvi::empty(shape, dt);
          break;
        case 4:
          out = diffvi::randn(shape, fz.gen(), dt);
          break;
        default:
          out = diffvi::rand(shape, fz.gen(), dt);
          break;
      }
    });
    const bool random = which >= 4;
    switch (fate) {
      case Fate::negative:
        EXPECT_FALSE(returned) << call.str() << ": a negative dim was accepted";
        break;
      case Fate::too_large:
        EXPECT_FALSE(returned) << call.str() << ": a request over 2^63 bytes was accepted";
        break;
      case Fate::small:
        // Random draws need a floating dtype; everything else must succeed.
        if (!random || dt != DType::i64) {
          EXPECT_TRUE(returned) << call.str();
        }
        if (returned) {
          EXPECT_EQ(out.shape(), shape) << call.str();
        }
        break;
      default:
        break;
    }
  }
  // arange / linspace / eye from their counts.
  for (int i = 0; i < kCreations / 5; ++i) {
    const double start = fz.AnyDouble(), end = fz.AnyDouble(), step = fz.AnyDouble();
    const double count = std::ceil((end - start) / step);
    if (!(count <= kSmall || count >= 0x1p61 || std::isnan(count))) {
      ++skipped;
    } else {
      std::ostringstream call;
      call << "arange(" << start << ", " << end << ", " << step << ")";
      tally.Run(call.str(), [&] {
        const Tensor t = diffvi::arange(start, end, step);
        EXPECT_LE(t.numel(), kSmall) << call.str();
      });
    }
    const int64_t steps = fz.OneOf<int64_t>({0, 1, 5, -1, kMin, int64_t{1} << 61, kMax});
    tally.Run("linspace(0, 1, " + std::to_string(steps) + ")",
              [&] { diffvi::linspace(0, 1, steps, fz.AnyDType()); });
    const int64_t n = fz.OneOf<int64_t>({0, 1, 3, -1, kMin, int64_t{1} << 31, int64_t{1} << 32});
    tally.Run("eye(" + std::to_string(n) + ")", [&] { diffvi::eye(n, fz.AnyDType()); });
  }
  std::cout << "[creation] " << tally.ok << " returned, " << tally.typed << " typed errors, "
            << skipped << " large-but-valid requests skipped\n";
}

// One random op on x (and, for binary ops, on a second random tensor). Returns the result, or x
// itself where the op yields none or would allocate something merely large (see the top).
Tensor RandomOp(Fuzzer& fz, Tally& tally, const Tensor& x, std::string& name) {
  const int64_t rank = x.dim();
  // Ops that allocate about x's element count run only when that count is affordable.
  const bool copies_ok = Affordable(x.numel());
  // Reductions, broadcasting, matmul, cat and indexing only see tensors without huge dims: a zero
  // dim next to a huge one ([2^31, 0]) is empty, but what these ops make from it need not be.
  bool small = x.numel() <= kSmall;
  for (int64_t d : x.shape()) small = small && d <= kSmall;
  Tensor out = x;
  std::ostringstream call;
  const int64_t op = fz.Pick(30);
  auto run = [&](auto&& f) { tally.Run(call.str(), [&] { out = f(); }); };
  call << "op " << op << " on " << Describe(x) << ": ";
  switch (op) {
    case 0: {
      const Shape s = fz.TargetShape(x);
      call << "view " << Describe(s);
      run([&] { return diffvi::view(x, s); });
      break;
    }
    case 1: {
      if (!copies_ok) break;
      const Shape s = fz.TargetShape(x);
      call << "reshape " << Describe(s);
      run([&] { return diffvi::reshape(x, s); });
      break;
    }
    case 2: {
      const Shape s = fz.TargetShape(x);
      call << "expand " << Describe(s);
      run([&] { return diffvi::expand(x, s); });
      break;
    }
    case 3: {
      const int64_t d = fz.AnyDimIndex(rank), a = fz.AnyInt(), b = fz.AnyInt();
      const int64_t st = fz.Chance(80) ? fz.Pick(3) + 1 : fz.AnyInt();
      call << "slice " << d << " " << a << ":" << b << ":" << st;
      run([&] { return diffvi::slice(x, d, a, b, st); });
      break;
    }
    case 4: {
      const int64_t d = fz.AnyDimIndex(rank), a = fz.AnyInt(), n = fz.AnyInt();
      call << "narrow " << d << " " << a << " " << n;
      run([&] { return diffvi::narrow(x, d, a, n); });
      break;
    }
    case 5: {
      const int64_t d = fz.AnyDimIndex(rank), i = fz.AnyInt();
      call << "select " << d << " " << i;
      run([&] { return diffvi::select(x, d, i); });
      break;
    }
    case 6: {
      const int64_t a = fz.AnyDimIndex(rank), b = fz.AnyDimIndex(rank);
      call << "transpose " << a << " " << b;
      run([&] { return diffvi::transpose(x, a, b); });
      break;
    }
    case 7: {
      std::vector<int64_t> p(rank);
      for (int64_t i = 0; i < rank; ++i) p[i] = i;
      std::shuffle(p.begin(), p.end(), std::mt19937_64(fz.Next()));
      if (fz.Chance(30)) p = fz.AnyDims(rank);
      call << "permute " << Describe(p);
      run([&] { return diffvi::permute(x, p); });
      break;
    }
    case 8: {
      const int64_t d = fz.AnyDimIndex(rank + 1);
      call << "unsqueeze/squeeze " << d;
      run([&] { return fz.Chance(50) ? diffvi::unsqueeze(x, d) : diffvi::squeeze(x, d); });
      break;
    }
    case 9: {
      if (!copies_ok) break;
      const int64_t a = fz.AnyDimIndex(rank), b = fz.AnyDimIndex(rank);
      call << "flatten " << a << " " << b;
      run([&] { return diffvi::flatten(x, a, b); });
      break;
    }
    case 10: {
      if (!copies_ok) break;
      call << "contiguous/clone";
      run([&] { return fz.Chance(50) ? diffvi::contiguous(x) : diffvi::clone(x); });
      break;
    }
    case 11: {
      if (!copies_ok) break;
      const DType dt = fz.AnyDType();
      call << "to " << diffvi::dtype_name(dt);
      run([&] { return diffvi::to(x, dt); });
      break;
    }
    case 12:
    case 13: {
      if (!small) break;
      const std::vector<int64_t> dims = fz.AnyDims(rank);
      const bool keep = fz.Chance(50);
      const int64_t which = fz.Pick(6);
      call << "reduce " << which << " over " << Describe(dims) << " keepdim " << keep;
      run([&] {
        switch (which) {
          case 0:
            return diffvi::sum(x, dims, keep);
          case 1:
            return diffvi::mean(x, dims, keep);
          case 2:
            return diffvi::max(x, dims, keep);
          case 3:
            return diffvi::min(x, dims, keep);
          case 4:
            return diffvi::logsumexp(x, dims, keep);
          default:
            return diffvi::var(x, dims, fz.Pick(3), keep);
        }
      });
      break;
    }
    case 14: {
      if (!small) break;
      const int64_t d = fz.AnyDimIndex(rank);
      call << "cumsum/softmax " << d;
      run([&] { return fz.Chance(50) ? diffvi::cumsum(x, d) : diffvi::softmax(x, d); });
      break;
    }
    case 15:
    case 16:
    case 17: {
      if (!small) break;
      // A second operand: a suffix of x's shape (broadcasts), x's shape, or any small shape.
      Shape s = x.shape();
      if (fz.Chance(40) && !s.empty()) s.erase(s.begin(), s.begin() + fz.Pick(s.size() + 1));
      if (fz.Chance(30)) s = fz.SmallShape();
      if (diffvi::numel(s) > 64) s = {fz.SmallDim()};
      const DType dt = fz.Chance(85) ? x.dtype() : fz.AnyDType();
      const Tensor y = diffvi::ones(s, dt);
      const int64_t which = fz.Pick(5);
      call << "binary " << which << " with " << Describe(y);
      run([&] {
        switch (which) {
          case 0:
            return diffvi::add(x, y);
          case 1:
            return diffvi::mul(y, x);
          case 2:
            return diffvi::div(x, y);
          case 3:
            return diffvi::maximum(x, y);
          default:
            return diffvi::matmul(x, y);
        }
      });
      break;
    }
    case 18: {
      if (!small) break;
      Shape s = x.shape();
      if (!s.empty()) std::reverse(s.begin(), s.end());
      if (fz.Chance(30)) s = fz.SmallShape();
      if (diffvi::numel(s) > 64) s = {fz.SmallDim()};
      const Tensor y = diffvi::ones(s, x.dtype());
      call << "matmul with " << Describe(y);
      run([&] { return fz.Chance(50) ? diffvi::matmul(x, y) : diffvi::matmul(y, x); });
      break;
    }
    case 19: {
      if (!small) break;
      const int64_t d = fz.AnyDimIndex(rank);
      const Tensor y = fz.Chance(70) ? x : diffvi::ones(fz.SmallShape(), x.dtype());
      call << "cat/stack " << d << " with " << Describe(y);
      run([&] { return fz.Chance(50) ? diffvi::cat({x, y, x}, d) : diffvi::stack({x, y}, d); });
      break;
    }
    case 20: {
      // Splitting a huge dim into many pieces is a valid request for billions of tensors.
      if (!small) break;
      const int64_t d = fz.AnyDimIndex(rank), n = fz.AnyInt();
      call << "split/chunk " << n << " along " << d;
      run([&] {
        const std::vector<Tensor> parts =
            fz.Chance(50) ? diffvi::split(x, n, d) : diffvi::chunk(x, n, d);
        return parts.empty() ? x : parts.back();
      });
      break;
    }
    case 21: {
      std::vector<int64_t> sizes(fz.Pick(4));
      for (int64_t& s : sizes) s = fz.AnyInt();
      const int64_t d = fz.AnyDimIndex(rank);
      call << "split " << Describe(sizes) << " along " << d;
      run([&] {
        const std::vector<Tensor> parts = diffvi::split(x, sizes, d);
        return parts.empty() ? x : parts.front();
      });
      break;
    }
    case 22:
    case 23: {
      if (!small) break;
      const int64_t d = fz.AnyDimIndex(rank);
      const int64_t limit = rank > 0 && d >= -rank && d < rank ? x.size(d) : 1;
      const Tensor idx = fz.Chance(90) ? fz.IndexTensor(limit) : diffvi::zeros({2});
      call << "index_select/gather " << d << " by " << Describe(idx);
      run([&] {
        if (fz.Chance(60)) return diffvi::index_select(x, d, idx);
        Tensor g = idx;
        for (int64_t k = 1; k < rank; ++k) g = diffvi::unsqueeze(g, -1);
        return diffvi::gather(x, d, g);
      });
      break;
    }
    case 24: {
      const Tensor idx = fz.IndexTensor(4);
      // Class counts from the two safe ends: small, or too large to allocate for any index.
      const int64_t n = fz.OneOf<int64_t>({0, 1, 4, -1, kMin, int64_t{1} << 61, kMax});
      call << "one_hot " << n << " of " << Describe(idx);
      run([&] { return diffvi::one_hot(idx, n, fz.AnyDType()); });
      break;
    }
    case 25: {
      if (!copies_ok) break;
      const int64_t which = fz.Pick(4);
      call << "unary " << which;
      run([&] {
        switch (which) {
          case 0:
            return diffvi::exp(x);
          case 1:
            return diffvi::neg(x);
          case 2:
            return diffvi::relu(x);
          default:
            return diffvi::add(x, 1.5);
        }
      });
      break;
    }
    case 26: {
      if (!small) break;
      call << "where";
      run([&] {
        const Tensor zero = diffvi::zeros({}, x.dtype());
        return diffvi::where(diffvi::gt(x, zero), x, zero);
      });
      break;
    }
    case 27: {
      if (!small) break;
      call << "item/to_vector/str";
      tally.Run(call.str(), [&] {
        if (x.numel() == 1) x.item();
        x.to_vector<double>();
        (void)x.str();
      });
      break;
    }
    default: {  // as_strided-free views that keep x: broadcast_to a plausible shape
      const Shape s = fz.TargetShape(x);
      call << "broadcast_to " << Describe(s);
      run([&] { return diffvi::broadcast_to(x, s); });
      break;
    }
  }
  name = call.str();
  return out;
}

TEST(Fuzz, OpsOnRandomTensorsFailOnlyWithTypedErrors) {
  Fuzzer fz(19);
  Tally tally;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kChains; ++i) {
    Tensor x;
    if (!tally.Run("making a tensor", [&] { x = fz.AnyTensor(); })) continue;
    std::string name;
    for (int k = 0; k < kOpsPerChain; ++k) {
      x = RandomOp(fz, tally, x, name);
      // Whatever came back is a consistent tensor: its count fits and is not negative.
      int64_t n = -1;
      tally.Run(name + " (numel of the result)", [&] { n = x.numel(); });
      EXPECT_GE(n, 0) << name << " returned " << Describe(x);
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ops] " << kChains << " chains of " << kOpsPerChain << ": " << tally.ok
            << " returned, " << tally.typed << " typed errors, " << s << " s\n";
}

}  // namespace
