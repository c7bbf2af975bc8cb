// A one-line progress bar on stderr: "[=====>     ] 120/469 epoch 1/3 loss 0.512 (3.1 s)".
// Redrawn in place with '\r', at most every 100 ms, so a fast loop does not flood the terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

class ProgressBar {
 public:
  explicit ProgressBar(int64_t total, std::string label = "")
      : total_(total > 0 ? total : 1), label_(std::move(label)), start_(Clock::now()) {}

  // Shows `done` of total with a free-form suffix (e.g. the running loss).
  void update(int64_t done, const std::string& suffix = "") {
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::string bar(kWidth, ' ');
    for (int i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < kWidth) bar[filled] = '>';
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %s (%.1f s)  ", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), suffix.c_str(),
                 secs);
    std::fflush(stderr);
  }

  // Ends the line.
  void finish() { std::fprintf(stderr, "\n"); }

 private:
  using Clock = std::chrono::steady_clock;
  int64_t total_;
  std::string label_;
  Clock::time_point start_, last_{};
};
