// Fuzzes the safetensors reader with random mutations of a valid file (byte flips, truncations,
// header-length edits, JSON edits, appended bytes): every input must either parse or raise
// IOError — never crash, hang, allocate absurdly or throw anything else. Inputs are parsed from
// memory so the run takes seconds, also under the sanitizers.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "diffvi/nn/safetensors.h"
#include "diffvi/tensor/errors.h"

namespace {

using diffvi::DType;
using diffvi::Shape;

std::string valid_file() {
  const diffvi::nn::TensorDict dict = {
      {"model.layers.0.weight",
       diffvi::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3})},
      {"model.layers.0.bias", diffvi::from_vector(std::vector<float>{0.5f, -0.5f}, Shape{2})},
      {"optim.exp_avg", diffvi::from_vector(std::vector<double>{1, 2, 3}, Shape{3}, DType::f64)},
      {"step", diffvi::from_vector(std::vector<int64_t>{42}, Shape{})},
      {"rng.default", diffvi::from_vector(std::vector<int64_t>{7, 1000}, Shape{2})},
      {"empty", diffvi::empty(Shape{0, 3})}};
  return diffvi::nn::serialize_safetensors(dict, {{"format", "diffvi.checkpoint"}});
}

void set_le64(std::string* s, uint64_t n) {
  for (int i = 0; i < 8 && i < static_cast<int>(s->size()); ++i) {
    (*s)[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  }
}

class Mutator {
 public:
  Mutator(std::string base, uint64_t seed) : base_(std::move(base)), rng_(seed) {
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<uint8_t>(base_[i])} << (8 * i);
    header_len_ = n;
  }

  std::string next() {
    std::string s = base_;
    const int rounds = 1 + static_cast<int>(pick(3));
    for (int r = 0; r < rounds; ++r) mutate(&s);
    return s;
  }

 private:
  uint64_t pick(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // A position inside the JSON header (most mutations aim there: that is where the parser works).
  size_t header_pos(const std::string& s) {
    const size_t end = std::min<size_t>(s.size(), 8 + header_len_);
    return end > 8 ? 8 + pick(end - 8) : 0;
  }

  void mutate(std::string* s) {
    static const std::string kJsonChars = "{}[]\":,0123456789-+.eE \\nul_aFIS";
    static const std::vector<std::string> kTokens = {"\"F64\"",
                                                     "\"I64\"",
                                                     "\"F16\"",
                                                     "\"Q\"",
                                                     "[]",
                                                     "{}",
                                                     "null",
                                                     "-1",
                                                     "1e400",
                                                     "0.5",
                                                     "18446744073709551615",
                                                     "99999999999999999999",
                                                     "4294967296",
                                                     "\"__metadata__\"",
                                                     "\"shape\"",
                                                     "\"dtype\"",
                                                     "\"data_offsets\"",
                                                     "[0,0]",
                                                     "[0]",
                                                     "\"\\ud800\""};
    switch (pick(9)) {
      case 0: {  // flip bits of random bytes anywhere
        const int n = 1 + static_cast<int>(pick(4));
        for (int i = 0; i < n && !s->empty(); ++i) (*s)[pick(s->size())] ^= 1 << pick(8);
        break;
      }
      case 1:  // random byte in the header
        if (!s->empty()) (*s)[header_pos(*s)] = static_cast<char>(pick(256));
        break;
      case 2:  // truncate
        s->resize(pick(s->size() + 1));
        break;
      case 3: {  // header length edits
        const uint64_t choices[] = {0,
                                    header_len_ + 1,
                                    header_len_ - 1,
                                    header_len_ + 8,
                                    header_len_ / 2,
                                    s->size(),
                                    s->size() - 8,
                                    100'000'000,
                                    100'000'001,
                                    UINT64_MAX,
                                    uint64_t{1} << 63,
                                    rng_()};
        set_le64(s, choices[pick(std::size(choices))]);
        break;
      }
      case 4:  // a JSON-significant character in the header
        if (!s->empty()) (*s)[header_pos(*s)] = kJsonChars[pick(kJsonChars.size())];
        break;
      case 5: {  // insert a token into the header, keeping the length field consistent
        const std::string& tok = kTokens[pick(kTokens.size())];
        const size_t pos = header_pos(*s);
        if (pos == 0) break;
        s->insert(pos, tok);
        set_le64(s, header_len_ + tok.size());
        break;
      }
      case 6: {  // delete a span of the header, keeping the length field consistent
        const size_t pos = header_pos(*s);
        if (pos == 0) break;
        const size_t len = std::min<size_t>(1 + pick(8), s->size() - pos);
        s->erase(pos, len);
        set_le64(s, header_len_ >= len ? header_len_ - len : 0);
        break;
      }
      case 7: {  // rewrite a number in the header (offsets and dims)
        const size_t pos = header_pos(*s);
        for (size_t i = pos; i < s->size() && i < 8 + header_len_; ++i) {
          if ((*s)[i] >= '0' && (*s)[i] <= '9') {
            (*s)[i] = static_cast<char>('0' + pick(10));
            break;
          }
        }
        break;
      }
      default:  // append or insert garbage bytes
        s->append(pick(16) + 1, static_cast<char>(pick(256)));
        break;
    }
  }

  std::string base_;
  std::mt19937_64 rng_;
  uint64_t header_len_ = 0;
};

TEST(SafetensorsFuzz, TenThousandMutationsThrowIOErrorOrParse) {
  const std::string base = valid_file();
  ASSERT_NO_THROW(diffvi::nn::parse_safetensors(base, "base"));
  Mutator mutator(base, 20240611);
  constexpr int kMutations = 12000;
  int parsed = 0, rejected = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMutations; ++i) {
    const std::string input = mutator.next();
    try {
      const auto c = diffvi::nn::parse_safetensors(input, "fuzz");
      size_t bytes = 0;
      for (const auto& [name, t] : c.tensors) {
        bytes += static_cast<size_t>(t.numel()) * diffvi::dtype_size(t.dtype());
      }
      ASSERT_LE(bytes, input.size()) << "mutation " << i;
      ++parsed;
    } catch (const diffvi::IOError& e) {
      ASSERT_NE(std::string(e.what()).find("'fuzz'"), std::string::npos) << e.what();
      ++rejected;
    } catch (const std::exception& e) {
      FAIL() << "mutation " << i << " threw a non-IOError: " << e.what();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(parsed + rejected, kMutations);
  EXPECT_GT(rejected, kMutations / 2);  // most mutations must be caught
  RecordProperty("parsed", parsed);
  RecordProperty("rejected", rejected);
  std::printf("fuzz: %d mutations, %d parsed, %d rejected, %.2f s\n", kMutations, parsed, rejected,
              seconds);
}

}  // namespace
