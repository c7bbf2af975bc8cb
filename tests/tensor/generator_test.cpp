// The counter-based generator: reproducible bits, independent streams, draws that split exactly,
// the same values on every backend, and sane moments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "diffvi/tensor/philox.h"
#include "test_util.h"

using diffvi::DType;
using diffvi::Generator;
using diffvi::Tensor;
using testutil::OnBackend;

namespace {
bool SameBits(const Tensor& a, const Tensor& b) {
  if (a.numel() != b.numel() || a.dtype() != b.dtype()) return false;
  Tensor ca = diffvi::raw::contiguous(a), cb = diffvi::raw::contiguous(b);
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), a.numel() * diffvi::dtype_size(a.dtype())) == 0;
}
}  // namespace

TEST(Generator, Philox4x32KnownAnswers) {
  // Known-answer vectors of Philox-4x32-10 from the Random123 distribution (kat_vectors).
  EXPECT_EQ(diffvi::philox4x32(0, 0, 0),
            (std::array<uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(diffvi::philox4x32(~0ull, ~0ull, ~0ull),
            (std::array<uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(diffvi::philox4x32(0x85a308d3243f6a88ull, 0x0370734413198a2eull, 0x299f31d0a4093822ull),
            (std::array<uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Generator, SameSeedSameBits) {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator a(42), b(42);
    EXPECT_TRUE(SameBits(diffvi::randn({257}, a, dt), diffvi::randn({257}, b, dt)));
    EXPECT_TRUE(SameBits(diffvi::rand({3, 5}, a, dt), diffvi::rand({3, 5}, b, dt)));
  }
}

TEST(Generator, DifferentSeedsOrOffsetsGiveDifferentStreams) {
  Generator a(42), b(43), c(42);
  c.set_state(42, 1000);
  const std::vector<double> va = diffvi::rand({500}, a, DType::f64).to_vector<double>();
  const std::vector<double> vb = diffvi::rand({500}, b, DType::f64).to_vector<double>();
  const std::vector<double> vc = diffvi::rand({500}, c, DType::f64).to_vector<double>();
  int same_ab = 0, same_ac = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    same_ab += va[i] == vb[i];
    same_ac += va[i] == vc[i];
  }
  EXPECT_EQ(same_ab, 0);
  EXPECT_EQ(same_ac, 0);
}

TEST(Generator, DrawAdvancesOffsetByNumel) {
  Generator g(7);
  diffvi::randn({3, 4}, g);
  EXPECT_EQ(g.offset(), 12u);
  diffvi::rand({0}, g);
  EXPECT_EQ(g.offset(), 12u);
  g.manual_seed(9);
  EXPECT_EQ(g.seed(), 9u);
  EXPECT_EQ(g.offset(), 0u);
  EXPECT_EQ(g.advance(5), 0u);
  EXPECT_EQ(g.offset(), 5u);
}

TEST(Generator, OneDrawEqualsTwoConsecutiveDraws) {
  // Counter-based: element i of a draw uses counter offset + i, so splitting is exact.
  const int64_t n = 1001, a = 377;
  for (DType dt : {DType::f32, DType::f64}) {
    Generator whole(5), parts(5);
    Tensor full = diffvi::randn({n}, whole, dt);
    Tensor first = diffvi::randn({a}, parts, dt);
    Tensor second = diffvi::randn({n - a}, parts, dt);
    EXPECT_TRUE(SameBits(diffvi::raw::slice(full, 0, 0, a), first));
    EXPECT_TRUE(SameBits(diffvi::raw::slice(full, 0, a, n), second));
    EXPECT_EQ(whole.offset(), parts.offset());
  }
}

TEST(Generator, ValuesFollowTheScalarDefinition) {
  Generator g(123);
  g.set_state(123, 40);
  const std::vector<double> u = diffvi::rand({64}, g, DType::f64).to_vector<double>();
  const std::vector<double> z = diffvi::randn({64}, g, DType::f64).to_vector<double>();
  for (uint64_t i = 0; i < 64; ++i) {
    EXPECT_EQ(u[i], diffvi::philox_uniform(123, 40, i));
    EXPECT_EQ(z[i], diffvi::philox_normal(123, 104, i));
  }
}

TEST(Generator, BackendsDrawIdenticalBitsIntoStridedTargets) {
  for (const char* backend : {"cpu", "reference"}) {
    Tensor got = OnBackend(backend, [] {
      Generator g(99);
      Tensor t = diffvi::zeros({6, 4});
      // A transposed target: row-major position in the view, not in memory, picks the counter.
      diffvi::raw::random_(diffvi::raw::transpose(t, 0, 1), diffvi::Distribution::normal, 0, 1, g);
      return diffvi::raw::contiguous(diffvi::raw::transpose(t, 0, 1));
    });
    Generator g(99);
    Tensor want = diffvi::randn({4, 6}, g);
    EXPECT_TRUE(SameBits(got, want)) << backend;
  }
}

// The CPU backend draws dense targets many counters at a time in vector registers, over two
// threads; the values must still be the scalar definition's, bit for bit, in every dtype and for
// sizes that end mid-batch, at offsets that straddle a 2^32 counter boundary.
TEST(Generator, VectorisedDenseDrawsEqualTheReferenceBitForBit) {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t n : {1, 63, 64, 65, 4096 + 17, 100003}) {
      for (diffvi::Distribution dist :
           {diffvi::Distribution::uniform, diffvi::Distribution::normal}) {
        auto draw = [&] {
          Generator g(0xC0FFEEull << 20);
          g.set_state(g.seed(), (uint64_t{1} << 32) - 1000);
          Tensor t = diffvi::empty({n}, dt);
          diffvi::raw::random_(t, dist, -0.5, 2.0, g);
          return t;
        };
        diffvi::set_num_threads(2);
        const Tensor cpu = OnBackend("cpu", draw);
        diffvi::set_num_threads(1);
        const Tensor ref = OnBackend("reference", draw);
        EXPECT_TRUE(SameBits(cpu, ref)) << diffvi::dtype_name(dt) << " n=" << n;
      }
    }
  }
}

// Box-Muller's log and cos are written out in philox.h (no libm) so every backend rounds alike;
// they must still be the real functions to within a few ulp over the whole range of the draws.
TEST(Generator, PhiloxLogAndCosMatchLibm) {
  Generator g(5);
  const std::vector<double> u = diffvi::rand({200000}, g, DType::f64).to_vector<double>();
  double worst_log = 0, worst_cos = 0;
  for (double x : u) {
    const double l = std::log(x);
    worst_log = std::max(worst_log, std::fabs(diffvi::philox::log_positive(x) - l) / std::fabs(l));
    worst_cos =
        std::max(worst_cos, std::fabs(diffvi::philox::cos_two_pi(x) - std::cos(2 * M_PI * x)));
  }
  for (double x : {0x1p-54, 0x1p-30, 0.5, 0.7071067811865476, 1.0}) {
    const double l = std::log(x);
    worst_log = std::max(worst_log,
                         x == 1.0 ? std::fabs(diffvi::philox::log_positive(x))
                                  : std::fabs(diffvi::philox::log_positive(x) - l) / std::fabs(l));
  }
  for (double x : {0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0}) {
    worst_cos =
        std::max(worst_cos, std::fabs(diffvi::philox::cos_two_pi(x) - std::cos(2 * M_PI * x)));
  }
  EXPECT_LT(worst_log, 4 * 0x1p-52);
  EXPECT_LT(worst_cos, 2e-15);
}

TEST(Generator, MomentsOfManyDraws) {
  Generator g(2024);
  const int n = 100000;
  const std::vector<double> z = diffvi::randn({n}, g, DType::f64).to_vector<double>();
  const std::vector<double> u = diffvi::rand({n}, g, DType::f64).to_vector<double>();
  double zm = 0, zv = 0, um = 0, uv = 0;
  for (int i = 0; i < n; ++i) {
    zm += z[i];
    um += u[i];
  }
  zm /= n;
  um /= n;
  for (int i = 0; i < n; ++i) {
    zv += (z[i] - zm) * (z[i] - zm);
    uv += (u[i] - um) * (u[i] - um);
  }
  zv /= n - 1;
  uv /= n - 1;
  // Standard errors: mean 1/sqrt(n) ~ 0.003, variance sqrt(2/n) ~ 0.0045; allow ~5 sigma.
  EXPECT_NEAR(zm, 0.0, 0.016);
  EXPECT_NEAR(zv, 1.0, 0.025);
  EXPECT_NEAR(um, 0.5, 0.005);
  EXPECT_NEAR(uv, 1.0 / 12, 0.002);
  // Normal(mean, std) is an affine map of the same stream.
  Generator a(8), b(8);
  const std::vector<double> s = diffvi::randn({16}, a, DType::f64).to_vector<double>();
  const std::vector<double> t = diffvi::normal({16}, 2.0, 3.0, b, DType::f64).to_vector<double>();
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(t[i], 2.0 + 3.0 * s[i], 1e-12);
}
