// Where a tensor's memory lives: the host ("cpu") or a CUDA device ("cuda:N").
#pragma once

#include <string>

namespace diffvi {

enum class DeviceType : uint8_t { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  static Device cpu() { return {DeviceType::cpu, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::cuda, index}; }
  static Device parse(const std::string& text);  // "cpu", "cuda", "cuda:1"; ValueError otherwise

  std::string str() const;
  bool operator==(const Device&) const = default;
};

}  // namespace diffvi
