// Atomic file replacement: the bytes go to a temporary file in the target's directory, which is
// fsynced, renamed over the target and followed by an fsync of the directory. A crash or error at
// any point leaves either the old file or the new one, never a mix; on error the temporary file
// is removed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace diffvi::nn {

// Replaces `path` with `bytes` atomically. IOError naming the path and the failing step (open,
// write, fsync, rename) on failure; the previous contents of `path`, if any, are left intact.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Test hook: when `after_bytes` >= 0, the next write_file_atomic calls fail with an IOError once
// that many bytes reached the temporary file (simulating a full disk or a crash mid-write).
// -1 (the default) disables it. Not thread-safe; for tests only.
void set_atomic_write_fault_for_testing(int64_t after_bytes);

}  // namespace diffvi::nn
