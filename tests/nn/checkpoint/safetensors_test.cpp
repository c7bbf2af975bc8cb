// safetensors: the exact byte layout of the reference writer, round trips, every failure mode of
// the reader (each an IOError naming the file and the problem) and the atomic writer.
#include "diffvi/nn/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diffvi/nn/atomic_file.h"
#include "diffvi/tensor/errors.h"
#include "diffvi/tensor/ops.h"
#include "nn/checkpoint/temp_dir.h"

namespace {

using diffvi::DType;
using diffvi::Shape;
using diffvi::Tensor;
using diffvi::nn::TensorDict;

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

std::string f32_bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) s.append(reinterpret_cast<const char*>(&v), 4);
  return s;
}

// A file from a header text (padded by the caller or not) and raw data bytes.
std::string make_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Expects parse_safetensors to throw IOError whose message names `source` and contains `what`.
void expect_io_error(const std::string& bytes, const std::string& what,
                     const std::string& source = "fixture.safetensors") {
  try {
    diffvi::nn::parse_safetensors(bytes, source);
    ADD_FAILURE() << "no IOError; expected one mentioning: " << what;
  } catch (const diffvi::IOError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(source), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nwanted: " << what;
  }
}

// --- the byte layout of the reference writer -----------------------------------------------------

// What `safetensors.torch.save_file({"weight": w, "bias": b}, path)` writes for
// w = [[1, 2], [3, 4]] and b = [0.5, -0.5] (f32): tensors sorted by name (same dtype), compact
// JSON padded with spaces to a multiple of 8 (118 + 2 = 120 bytes), then the data.
const std::string kTorchHeader =
    "{\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}  ";

std::string torch_fixture() {
  return std::string("\x78\0\0\0\0\0\0\0", 8) + kTorchHeader + f32_bytes({0.5f, -0.5f}) +
         f32_bytes({1, 2, 3, 4});
}

TEST(SafetensorsFormat, LoadsTheTorchFixture) {
  const auto c = diffvi::nn::parse_safetensors(torch_fixture(), "torch.safetensors");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].first, "bias");
  EXPECT_EQ(c.tensors[1].first, "weight");
  EXPECT_EQ(c.tensors[0].second.shape(), (Shape{2}));
  EXPECT_EQ(c.tensors[1].second.shape(), (Shape{2, 2}));
  EXPECT_EQ(c.tensors[0].second.dtype(), DType::f32);
  EXPECT_EQ(c.tensors[0].second.to_vector<float>(), (std::vector<float>{0.5f, -0.5f}));
  EXPECT_EQ(c.tensors[1].second.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(c.metadata.empty());
}

TEST(SafetensorsFormat, WriterIsByteIdenticalToTheTorchFixture) {
  // Given in the state_dict order (weight first): the writer sorts by name like the reference.
  const TensorDict dict = {
      {"weight", diffvi::from_vector(std::vector<float>{1, 2, 3, 4}, Shape{2, 2})},
      {"bias", diffvi::from_vector(std::vector<float>{0.5f, -0.5f}, Shape{2})}};
  EXPECT_EQ(diffvi::nn::serialize_safetensors(dict), torch_fixture());
}

TEST(SafetensorsFormat, MetadataComesFirst) {
  const std::string header =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,24]}}   ";
  ASSERT_EQ(header.size(), 152u);
  const std::string file = make_file(header, f32_bytes({0.5f, -0.5f, 1, 2, 3, 4}));
  const TensorDict dict = {
      {"weight", diffvi::from_vector(std::vector<float>{1, 2, 3, 4}, Shape{2, 2})},
      {"bias", diffvi::from_vector(std::vector<float>{0.5f, -0.5f}, Shape{2})}};
  EXPECT_EQ(diffvi::nn::serialize_safetensors(dict, {{"format", "pt"}}), file);
  const auto c = diffvi::nn::parse_safetensors(file, "m.safetensors");
  EXPECT_EQ(c.metadata.at("format"), "pt");
}

// The byte vectors of the reference implementation's own serialization tests.
TEST(SafetensorsFormat, MatchesTheReferenceTestVectors) {
  const std::vector<float> v = {0, 1, 2, 3, 4, 5};
  std::string data;
  for (float x : v) data.append(reinterpret_cast<const char*>(&x), 4);
  // {"attn.0": F32 [1, 2, 3]}: 64-byte header, no padding needed.
  const std::string a =
      std::string("\x40\0\0\0\0\0\0\0", 8) +
      "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}" + data;
  EXPECT_EQ(diffvi::nn::serialize_safetensors({{"attn.0", diffvi::from_vector(v, Shape{1, 2, 3})}}),
            a);
  // {"attn0": F32 [1, 1, 2, 3]}: 65 bytes of JSON padded with 7 spaces to 72.
  const std::string b =
      std::string("\x48\0\0\0\0\0\0\0", 8) +
      "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       " + data;
  EXPECT_EQ(
      diffvi::nn::serialize_safetensors({{"attn0", diffvi::from_vector(v, Shape{1, 1, 2, 3})}}), b);
  // No tensors: "{}" padded to 8; with metadata {"framework": "pt"}: 35 bytes padded to 40.
  EXPECT_EQ(diffvi::nn::serialize_safetensors({}), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  EXPECT_EQ(
      diffvi::nn::serialize_safetensors({}, {{"framework", "pt"}}),
      std::string("\x28\0\0\0\0\0\0\0", 8) + "{\"__metadata__\":{\"framework\":\"pt\"}}     ");
  for (const std::string& file : {a, b}) {
    EXPECT_EQ(diffvi::nn::parse_safetensors(file, "ref").tensors[0].second.to_vector<float>(), v);
  }
}

TEST(SafetensorsFormat, SortsByDescendingAlignmentThenName) {
  const TensorDict dict = {
      {"c", diffvi::from_vector(std::vector<float>{1}, Shape{1})},
      {"b64", diffvi::from_vector(std::vector<double>{2}, Shape{1}, DType::f64)},
      {"a", diffvi::from_vector(std::vector<float>{3}, Shape{1})},
      {"z", diffvi::from_vector(std::vector<int64_t>{4}, Shape{1})},
      {"B", diffvi::from_vector(std::vector<float>{5}, Shape{1})}};
  const auto c = diffvi::nn::parse_safetensors(diffvi::nn::serialize_safetensors(dict), "s");
  std::vector<std::string> names;
  for (const auto& [n, t] : c.tensors) names.push_back(n);
  // I64, then F64, then F32 by bytewise name ("B" < "a").
  EXPECT_EQ(names, (std::vector<std::string>{"z", "b64", "B", "a", "c"}));
}

// --- round trips ---------------------------------------------------------------------------------

TEST(SafetensorsRoundTrip, AllDtypesEmptyScalarAndViews) {
  testutil::TempDir dir;
  const Tensor base = diffvi::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const TensorDict dict = {
      {"layers.0.weight", base},
      {"layers.0.weight_t", diffvi::raw::transpose(base, 0, 1)},  // non-contiguous
      {"f64", diffvi::from_vector(std::vector<double>{1e-300, -2.5, 3.141592653589793}, Shape{3},
                                  DType::f64)},
      {"i64", diffvi::from_vector(std::vector<int64_t>{-1, INT64_MAX, INT64_MIN}, Shape{3})},
      {"empty", diffvi::empty(Shape{0, 4})},
      {"empty_i64", diffvi::empty(Shape{3, 0}, DType::i64)},
      {"scalar", diffvi::from_vector(std::vector<double>{7.5}, Shape{}, DType::f64)}};
  const std::map<std::string, std::string> meta = {{"step", "12"}, {"note", "ünïcödé \"q\"\n"}};
  const std::string path = dir.file("rt.safetensors");
  diffvi::nn::save_safetensors(path, dict, meta);
  const auto c = diffvi::nn::load_safetensors(path);
  EXPECT_EQ(c.metadata, meta);
  ASSERT_EQ(c.tensors.size(), dict.size());
  for (const auto& [name, t] : dict) {
    const Tensor got = diffvi::nn::find_tensor(c.tensors, name);
    ASSERT_TRUE(got.defined()) << name;
    EXPECT_EQ(got.shape(), t.shape()) << name;
    EXPECT_EQ(got.dtype(), t.dtype()) << name;
    if (t.dtype() == DType::i64) {
      EXPECT_EQ(got.to_vector<int64_t>(), t.to_vector<int64_t>()) << name;
    } else {
      EXPECT_EQ(got.to_vector<double>(), t.to_vector<double>()) << name;
    }
  }
  // Saving what was loaded reproduces the file byte for byte.
  EXPECT_EQ(diffvi::nn::serialize_safetensors(c.tensors, c.metadata), read_bytes(path));
}

TEST(SafetensorsWriter, RejectsBadNames) {
  const Tensor t = diffvi::zeros(Shape{1});
  EXPECT_THROW(diffvi::nn::serialize_safetensors({{"a", t}, {"a", t}}), diffvi::ValueError);
  EXPECT_THROW(diffvi::nn::serialize_safetensors({{"__metadata__", t}}), diffvi::ValueError);
  EXPECT_THROW(diffvi::nn::serialize_safetensors({{"bad\xff", t}}), diffvi::ValueError);
  EXPECT_THROW(diffvi::nn::serialize_safetensors({{"u", Tensor()}}), diffvi::ValueError);
}

// --- the reader's failure modes ------------------------------------------------------------------

TEST(SafetensorsReader, MissingAndUnreadableFiles) {
  testutil::TempDir dir;
  const std::string missing = dir.file("nope.safetensors");
  try {
    diffvi::nn::load_safetensors(missing);
    ADD_FAILURE() << "no error";
  } catch (const diffvi::IOError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  try {
    diffvi::nn::load_safetensors(dir.path());
    ADD_FAILURE() << "no error";
  } catch (const diffvi::IOError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsReader, HeaderLengthProblems) {
  expect_io_error("", "shorter than the 8-byte header length");
  expect_io_error(std::string("\x10\0\0", 3), "file is 3 bytes");
  expect_io_error(le64(1000) + "{}", "header length 1000 runs past the end of the file");
  expect_io_error(le64(100'000'001) + "{}", "absurd");
  expect_io_error(le64(UINT64_MAX) + "{}", "absurd");
  // A length that truncates the JSON.
  const std::string file = torch_fixture();
  std::string shorter = file;
  shorter.replace(0, 8, le64(50));
  expect_io_error(shorter, "not valid JSON");
}

TEST(SafetensorsReader, BadJsonAndMissingFields) {
  expect_io_error(make_file("{\"a\":", ""), "not valid JSON");
  expect_io_error(make_file("[1, 2]  ", ""), "not a JSON object");
  expect_io_error(make_file("{\"a\":[]}", ""), "tensor 'a' is not described by a JSON object");
  expect_io_error(make_file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", std::string(4, 0)),
                  "tensor 'a' has no \"dtype\"");
  expect_io_error(
      make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", std::string(4, 0)),
      "tensor 'a' has no \"shape\"");
  expect_io_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", std::string(4, 0)),
                  "tensor 'a' has no \"data_offsets\"");
  expect_io_error(
      make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", ""),
      "not a non-negative integer");
  expect_io_error(
      make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", ""),
      "not a non-negative integer");
  expect_io_error(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", ""),
                  "not a [begin, end] pair");
  expect_io_error(make_file("{\"__metadata__\":{\"k\":1}}", ""), "metadata value for key 'k'");
  expect_io_error(make_file("{\"__metadata__\":[1]}", ""), "\"__metadata__\" is not an object");
  // Valid UTF-8 is required inside strings.
  expect_io_error(make_file("{\"a\xff\":{}}", ""), "not valid JSON");
}

TEST(SafetensorsReader, Dtypes) {
  expect_io_error(make_file("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
                  "tensor 'a' has unknown dtype \"Q7\"");
  expect_io_error(
      make_file("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", "xx"),
      "tensor 'a' has dtype F16, which diffvi does not support");
  expect_io_error(make_file("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
                  "\"dtype\" is not a string");
}

TEST(SafetensorsReader, OffsetAndShapeMismatches) {
  const std::string d8(8, '\0');
  const auto one = [](const std::string& shape, const std::string& offsets) {
    return "{\"a\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
  };
  expect_io_error(make_file(one("[3]", "[0,8]"), d8), "span 8 bytes but shape [3] of F32 needs 12");
  expect_io_error(make_file(one("[2]", "[0,16]"), d8), "out of range");
  expect_io_error(make_file(one("[2]", "[8,0]"), d8), "end before they begin");
  expect_io_error(make_file(one("[1]", "[4,8]"), d8), "leave a gap after byte 0");
  expect_io_error(make_file(one("[2]", "[0,8]"), d8 + "junk"), "4 trailing bytes");
  expect_io_error(make_file(one("[4294967296,4294967296]", "[0,8]"), d8), "overflows");
  expect_io_error(make_file(one("[0,4294967296,4294967296]", "[0,0]"), ""), "overflows");
  expect_io_error(make_file(one("[18446744073709551615]", "[0,8]"), d8), "too large");
  // Two tensors sharing bytes.
  const std::string two =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
  expect_io_error(make_file(two, d8),
                  "tensor 'b': data_offsets [4, 8] overlap the previous tensor");
  // Truncated data section (the file lost its last bytes).
  const std::string file = torch_fixture();
  expect_io_error(file.substr(0, file.size() - 3),
                  "tensor 'weight': data_offsets [8, 24] are out of range");
}

TEST(SafetensorsReader, AcceptsWhatTheReferenceAccepts) {
  // Offsets in any header order, extra fields, null metadata, trailing header whitespace.
  const std::string header =
      "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":1},"
      "\"__metadata__\":null,"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\n\t ";
  const auto c = diffvi::nn::parse_safetensors(make_file(header, f32_bytes({1, 2})), "ok");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].first, "a");
  EXPECT_EQ(c.tensors[1].second.item(), 2.0);
}

// --- atomic writes -------------------------------------------------------------------------------

size_t count_entries(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  return n;
}

TEST(SafetensorsAtomicWrite, FailedWriteLeavesTheOldFileIntact) {
  testutil::TempDir dir;
  const std::string path = dir.file("m.safetensors");
  const TensorDict old_dict = {{"w", diffvi::from_vector(std::vector<float>{1, 2}, Shape{2})}};
  diffvi::nn::save_safetensors(path, old_dict);
  const std::string old_bytes = read_bytes(path);
  const TensorDict new_dict = {{"w", diffvi::from_vector(std::vector<float>{3, 4, 5}, Shape{3})}};
  for (int64_t fault : {0, 5, 40}) {
    diffvi::nn::set_atomic_write_fault_for_testing(fault);
    EXPECT_THROW(diffvi::nn::save_safetensors(path, new_dict), diffvi::IOError);
    diffvi::nn::set_atomic_write_fault_for_testing(-1);
    EXPECT_EQ(read_bytes(path), old_bytes) << "fault after " << fault << " bytes";
    EXPECT_EQ(count_entries(dir.path()), 1u) << "temporary file left behind";
  }
  diffvi::nn::save_safetensors(path, new_dict);
  EXPECT_EQ(diffvi::nn::load_safetensors(path).tensors[0].second.numel(), 3);
}

TEST(SafetensorsAtomicWrite, RenameFailureAndMissingDirectory) {
  testutil::TempDir dir;
  // The target is a non-empty directory: the rename fails after the temporary file was written.
  const std::string target = dir.file("occupied");
  std::filesystem::create_directory(target);
  write_bytes(target + "/keep", "x");
  try {
    diffvi::nn::save_safetensors(target, {{"w", diffvi::zeros(Shape{2})}});
    ADD_FAILURE() << "no error";
  } catch (const diffvi::IOError& e) {
    EXPECT_NE(std::string(e.what()).find("rename"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_bytes(target + "/keep"), "x");
  EXPECT_EQ(count_entries(dir.path()), 1u) << "temporary file left behind";
  EXPECT_THROW(diffvi::nn::save_safetensors(dir.file("no/such/dir/m.safetensors"), {}),
               diffvi::IOError);
}

}  // namespace
