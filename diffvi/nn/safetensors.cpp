#include "diffvi/nn/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "diffvi/nn/atomic_file.h"
#include "diffvi/tensor/errors.h"

namespace diffvi::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host needs byte swapping here");

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

const char* st_dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    default:
      return "I64";
  }
}

// Rank in the reference's Dtype enum order (increasing alignment): F32 < F64 < I64.
int st_dtype_rank(DType t) {
  switch (t) {
    case DType::f32:
      return 0;
    case DType::f64:
      return 1;
    default:
      return 2;
  }
}

bool parse_st_dtype(const std::string& s, DType* out) {
  if (s == "F32") {
    *out = DType::f32;
    return true;
  }
  if (s == "F64") {
    *out = DType::f64;
    return true;
  }
  if (s == "I64") {
    *out = DType::i64;
    return true;
  }
  return false;
}

bool is_known_unsupported_dtype(const std::string& s) {
  static const std::set<std::string> kOthers = {
      "BOOL", "U8",  "I8", "I16",     "U16",     "F16",     "BF16",    "I32",    "U32",
      "U64",  "C64", "F4", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2"};
  return kOthers.count(s) != 0;
}

struct Entry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class Parser {
 public:
  Parser(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  SafetensorsContents run() {
    const uint64_t header_len = read_header_length();
    const std::string_view header = bytes_.substr(8, header_len);
    json root;
    try {
      root = json::parse(header.begin(), header.end());
    } catch (const json::exception& e) {
      fail("header is not valid JSON (" + std::string(e.what()) + ")");
    }
    if (!root.is_object()) fail("header is not a JSON object");
    SafetensorsContents out;
    std::vector<Entry> entries;
    for (const auto& [key, value] : root.items()) {
      if (key == "__metadata__") {
        read_metadata(value, &out.metadata);
      } else {
        entries.push_back(read_entry(key, value));
      }
    }
    validate_offsets(&entries, bytes_.size() - 8 - header_len);
    const char* data = bytes_.data() + 8 + header_len;
    out.tensors.reserve(entries.size());
    for (const Entry& e : entries) {
      Tensor t = empty(e.shape, TensorOptions(e.dtype));
      if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
      out.tensors.emplace_back(e.name, std::move(t));
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw IOError("safetensors file '" + source_ + "': " + problem);
  }

  uint64_t read_header_length() const {
    if (bytes_.size() < 8) {
      fail("file is " + std::to_string(bytes_.size()) +
           " bytes, shorter than the 8-byte header length");
    }
    uint64_t n = 0;
    std::memcpy(&n, bytes_.data(), 8);
    if (n > kSafetensorsMaxHeaderBytes) {
      fail("header length " + std::to_string(n) + " is absurd (over the " +
           std::to_string(kSafetensorsMaxHeaderBytes) + "-byte limit)");
    }
    if (n > bytes_.size() - 8) {
      fail("header length " + std::to_string(n) + " runs past the end of the file (" +
           std::to_string(bytes_.size()) + " bytes)");
    }
    return n;
  }

  void read_metadata(const json& value, std::map<std::string, std::string>* out) const {
    if (value.is_null()) return;
    if (!value.is_object()) fail("\"__metadata__\" is not an object of strings");
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string()) fail("metadata value for key '" + k + "' is not a string");
      (*out)[k] = v.get<std::string>();
    }
  }

  uint64_t read_index(const json& v, const std::string& what) const {
    if (!v.is_number_unsigned()) fail(what + " is not a non-negative integer");
    return v.get<uint64_t>();
  }

  Entry read_entry(const std::string& name, const json& value) const {
    const std::string where = "tensor '" + name + "'";
    if (!value.is_object()) fail(where + " is not described by a JSON object");
    Entry e;
    e.name = name;
    const auto dt = value.find("dtype");
    if (dt == value.end()) fail(where + " has no \"dtype\"");
    if (!dt->is_string()) fail(where + ": \"dtype\" is not a string");
    const std::string dname = dt->get<std::string>();
    if (!parse_st_dtype(dname, &e.dtype)) {
      if (is_known_unsupported_dtype(dname)) {
        fail(where + " has dtype " + dname + ", which diffvi does not support (F32, F64, I64)");
      }
      fail(where + " has unknown dtype \"" + dname + "\"");
    }
    const auto sh = value.find("shape");
    if (sh == value.end()) fail(where + " has no \"shape\"");
    if (!sh->is_array()) fail(where + ": \"shape\" is not an array");
    for (const json& d : *sh) {
      const uint64_t dim = read_index(d, where + ": a \"shape\" entry");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(where + ": shape dimension " + std::to_string(dim) + " is too large");
      }
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto off = value.find("data_offsets");
    if (off == value.end()) fail(where + " has no \"data_offsets\"");
    if (!off->is_array() || off->size() != 2) {
      fail(where + ": \"data_offsets\" is not a [begin, end] pair");
    }
    e.begin = read_index((*off)[0], where + ": data_offsets begin");
    e.end = read_index((*off)[1], where + ": data_offsets end");
    return e;
  }

  // Offsets sorted by (begin, end) must tile [0, data_size) exactly, as the reference requires;
  // each span must equal numel * itemsize (computed with overflow checks).
  void validate_offsets(std::vector<Entry>* entries, uint64_t data_size) const {
    std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
      if (a.begin != b.begin) return a.begin < b.begin;
      if (a.end != b.end) return a.end < b.end;
      return a.name < b.name;
    });
    uint64_t expected = 0;
    for (const Entry& e : *entries) {
      const std::string where = "tensor '" + e.name + "'";
      const std::string offsets =
          "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
      if (e.end < e.begin) fail(where + ": " + offsets + " end before they begin");
      if (e.begin < expected) {
        fail(where + ": " + offsets + " overlap the previous tensor (which ends at " +
             std::to_string(expected) + ")");
      }
      if (e.begin > expected) {
        fail(where + ": " + offsets + " leave a gap after byte " + std::to_string(expected));
      }
      if (e.end > data_size) {
        fail(where + ": " + offsets + " are out of range: the data section has " +
             std::to_string(data_size) + " bytes (file truncated?)");
      }
      // numel over all dims (may be 0) and over the non-zero dims (must fit Shape's int64).
      uint64_t numel = 1, nonzero = 1;
      bool overflow = false;
      for (int64_t d : e.shape) {
        const uint64_t u = static_cast<uint64_t>(d);
        overflow |= __builtin_mul_overflow(numel, u, &numel);
        if (u != 0) overflow |= __builtin_mul_overflow(nonzero, u, &nonzero);
      }
      uint64_t nbytes = 0;
      overflow |= nonzero > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      overflow |= __builtin_mul_overflow(numel, dtype_size(e.dtype), &nbytes);
      if (overflow) fail(where + ": shape " + shape_str(e.shape) + " overflows");
      if (e.end - e.begin != nbytes) {
        fail(where + ": " + offsets + " span " + std::to_string(e.end - e.begin) +
             " bytes but shape " + shape_str(e.shape) + " of " + st_dtype_name(e.dtype) +
             " needs " + std::to_string(nbytes));
      }
      expected = e.end;
    }
    if (expected != data_size) {
      fail("the tensors cover " + std::to_string(expected) + " data bytes but " +
           std::to_string(data_size) + " follow the header (" +
           std::to_string(data_size - expected) + " trailing bytes)");
    }
  }

  std::string_view bytes_;
  const std::string& source_;
};

void append_tensor_bytes(const Tensor& t, std::string* out) {
  visit_dtype(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const std::vector<T> values = t.to_vector<T>();
    out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  });
}

}  // namespace

std::string serialize_safetensors(const TensorDict& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  std::vector<const std::pair<std::string, Tensor>*> order;
  std::set<std::string> seen;
  for (const auto& item : tensors) {
    if (item.first == "__metadata__") {
      throw ValueError("save_safetensors: \"__metadata__\" is reserved and cannot name a tensor");
    }
    if (!seen.insert(item.first).second) {
      throw ValueError("save_safetensors: duplicate tensor name '" + item.first + "'");
    }
    if (!item.second.defined()) {
      throw ValueError("save_safetensors: tensor '" + item.first + "' is undefined");
    }
    order.push_back(&item);
  }
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    const int ra = st_dtype_rank(a->second.dtype()), rb = st_dtype_rank(b->second.dtype());
    if (ra != rb) return ra > rb;
    return a->first < b->first;
  });
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto* item : order) {
    const Tensor& t = item->second;
    const uint64_t n = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    ordered_json info = ordered_json::object();
    info["dtype"] = st_dtype_name(t.dtype());
    ordered_json shape = ordered_json::array();
    for (int64_t d : t.shape()) shape.push_back(static_cast<uint64_t>(d));
    info["shape"] = std::move(shape);
    info["data_offsets"] = ordered_json::array({offset, offset + n});
    header[item->first] = std::move(info);
    offset += n;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::exception& e) {
    throw ValueError(std::string("save_safetensors: a tensor name or metadata entry is not "
                                 "valid UTF-8 (") +
                     e.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > kSafetensorsMaxHeaderBytes) {
    throw ValueError("save_safetensors: header of " + std::to_string(text.size()) +
                     " bytes exceeds the 100 MB limit");
  }
  std::string out;
  out.reserve(8 + text.size() + offset);
  const uint64_t len = text.size();
  out.append(reinterpret_cast<const char*>(&len), 8);
  out += text;
  for (const auto* item : order) append_tensor_bytes(item->second, &out);
  return out;
}

void save_safetensors(const std::string& path, const TensorDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source) {
  return Parser(bytes, source).run();
}

SafetensorsContents load_safetensors(const std::string& path) {
  const auto fail = [&](const std::string& problem, int err) {
    throw IOError("safetensors file '" + path + "': " + problem + ": " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", errno);
  std::string bytes;
  struct stat st {};
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (!S_ISREG(st.st_mode)) {
    err = EISDIR;
  } else {
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0) break;  // shrank while reading: parse what is there
      done += static_cast<size_t>(n);
    }
    bytes.resize(done);
  }
  ::close(fd);
  if (err == EISDIR) throw IOError("safetensors file '" + path + "': not a regular file");
  if (err != 0) fail("cannot read", err);
  return parse_safetensors(bytes, path);
}

}  // namespace diffvi::nn
