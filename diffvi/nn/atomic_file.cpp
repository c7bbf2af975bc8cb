#include "diffvi/nn/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

#include "diffvi/tensor/errors.h"

namespace diffvi::nn {
namespace {

std::atomic<int64_t> g_fault_after_bytes{-1};

[[noreturn]] void fail(const std::string& path, const std::string& step, int err) {
  throw IOError("cannot write '" + path + "': " + step + " failed: " + std::strerror(err));
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Closes the descriptor and unlinks the temporary file unless released.
class TempFile {
 public:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Closes the descriptor; returns 0 or an errno value.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_;
  bool released_ = false;
};

void write_all(const TempFile& tmp, const std::string& path, std::string_view bytes) {
  const int64_t fault = g_fault_after_bytes.load();
  size_t limit = bytes.size();
  if (fault >= 0 && static_cast<uint64_t>(fault) < limit) limit = static_cast<size_t>(fault);
  size_t done = 0;
  while (done < limit) {
    const ssize_t n = ::write(tmp.fd(), bytes.data() + done, limit - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "write of temporary file '" + tmp.path() + "'", errno);
    }
    done += static_cast<size_t>(n);
  }
  if (fault >= 0) {
    throw IOError("cannot write '" + path + "': write of temporary file '" + tmp.path() +
                  "' failed: simulated fault after " + std::to_string(fault) + " bytes");
  }
}

}  // namespace

void set_atomic_write_fault_for_testing(int64_t after_bytes) {
  g_fault_after_bytes.store(after_bytes);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  if (path.empty()) throw IOError("cannot write a file with an empty path");
  std::random_device rd;
  const std::string tmp_path =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(rd());
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "creating temporary file '" + tmp_path + "'", errno);
  TempFile tmp(tmp_path, fd);
  write_all(tmp, path, bytes);
  if (::fsync(tmp.fd()) != 0) fail(path, "fsync of temporary file", errno);
  if (const int err = tmp.close(); err != 0) fail(path, "close of temporary file", err);
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    fail(path, "rename from temporary file", errno);
  }
  tmp.release();
  // Make the rename itself durable.
  const std::string dir = dir_of(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) fail(path, "opening directory '" + dir + "' for fsync", errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0 && err != EINVAL) fail(path, "fsync of directory '" + dir + "'", err);
}

}  // namespace diffvi::nn
