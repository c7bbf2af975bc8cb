#include "diffvi/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "diffvi/tensor/errors.h"

namespace diffvi::data {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw IOError("IDX file '" + path + "': " + problem);
}

// Owns a gzFile.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      fail(path, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
    }
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `n` bytes; returns how many were read (fewer only at the end of the stream).
  size_t read(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 24));
      const int got = gzread(file_, out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        fail(path_, std::string("corrupt or unreadable gzip data: ") +
                        (code == Z_ERRNO ? std::strerror(errno) : msg));
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string dims_str(const std::vector<int64_t>& dims) { return shape_str(dims); }

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  uint8_t magic[4];
  if (in.read(magic, 4) != 4) fail(path, "truncated: shorter than the 4-byte magic");
  if (magic[0] != 0 || magic[1] != 0) {
    fail(path, "bad magic (not an IDX file): first bytes are " + std::to_string(magic[0]) + ", " +
                   std::to_string(magic[1]) + ", expected 0, 0");
  }
  if (magic[2] != 0x08) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", magic[2]);
    fail(path, std::string("unsupported element type ") + hex +
                   " (only unsigned bytes, 0x08, are supported)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4) {
    fail(path, "bad magic: " + std::to_string(ndims) + " dims (expected 1 to 4)");
  }
  IdxArray out;
  uint64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    uint8_t b[4];
    if (in.read(b, 4) != 4) fail(path, "truncated inside the dims header");
    const uint32_t d = be32(b);
    out.dims.push_back(d);
    total *= d;  // at most 4 factors below 2^32 each are checked one by one
    if (total > kIdxMaxBytes) {
      fail(path, "absurd dims (more than " + std::to_string(kIdxMaxBytes) + " elements)");
    }
  }
  // Grow in chunks so a lying header cannot make us allocate more than the stream holds.
  constexpr size_t kChunk = size_t{1} << 22;
  size_t have = 0;
  while (have < total) {
    const size_t want = std::min<size_t>(kChunk, total - have);
    out.data.resize(have + want);
    const size_t got = in.read(out.data.data() + have, want);
    have += got;
    if (got < want) {
      fail(path, "truncated: dims " + dims_str(out.dims) + " need " + std::to_string(total) +
                     " bytes of data but the file holds " + std::to_string(have));
    }
  }
  uint8_t extra[16];
  const size_t trailing = in.read(extra, sizeof(extra));
  if (trailing != 0) {
    fail(path, "wrong size: trailing bytes after the " + std::to_string(total) +
                   " data bytes that dims " + dims_str(out.dims) + " announce");
  }
  return out;
}

Tensor read_idx_images(const std::string& path) {
  IdxArray a = read_idx(path);
  if (a.dims.size() != 3) {
    fail(path, "expected image dims [N, rows, cols], found " + dims_str(a.dims));
  }
  Tensor t = empty(a.dims, TensorOptions(DType::f32));
  float* p = a.data.empty() ? nullptr : t.data<float>();
  for (size_t i = 0; i < a.data.size(); ++i) p[i] = static_cast<float>(a.data[i]) / 255.0f;
  return t;
}

Tensor read_idx_labels(const std::string& path) {
  IdxArray a = read_idx(path);
  if (a.dims.size() != 1) fail(path, "expected label dims [N], found " + dims_str(a.dims));
  return from_vector(std::vector<int64_t>(a.data.begin(), a.data.end()), a.dims);
}

}  // namespace diffvi::data
