#include "diffvi/nn/tensor_dict.h"

#include <unordered_map>
#include <unordered_set>

#include "diffvi/autograd/node.h"
#include "diffvi/tensor/ops.h"

namespace diffvi::nn {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Tensor find_tensor(const TensorDict& dict, const std::string& name) {
  for (const auto& [key, value] : dict) {
    if (key == name) return value;
  }
  return {};
}

LoadReport check_state_keys(const TensorDict& expected, const TensorDict& given, bool strict,
                            const std::string& what) {
  std::unordered_map<std::string, const Tensor*> by_name;
  for (const auto& [key, value] : given) by_name.emplace(key, &value);
  std::unordered_set<std::string> expected_names;
  LoadReport report;
  std::vector<std::string> misshaped;
  for (const auto& [key, value] : expected) {
    expected_names.insert(key);
    auto it = by_name.find(key);
    if (it == by_name.end() || !it->second->defined()) {
      report.missing.push_back(key);
    } else if (it->second->shape() != value.shape()) {
      misshaped.push_back(key + " (expected " + shape_str(value.shape()) + ", got " +
                          shape_str(it->second->shape()) + ")");
    }
  }
  for (const auto& [key, value] : given) {
    if (!expected_names.count(key)) report.unexpected.push_back(key);
  }
  const bool key_problem = strict && (!report.missing.empty() || !report.unexpected.empty());
  if (misshaped.empty() && !key_problem) return report;
  std::string msg = what + ":";
  if (!misshaped.empty()) msg += " mis-shaped keys: " + join(misshaped) + ";";
  if (key_problem && !report.missing.empty()) msg += " missing keys: " + join(report.missing) + ";";
  if (key_problem && !report.unexpected.empty()) {
    msg += " unexpected keys: " + join(report.unexpected) + ";";
  }
  msg.pop_back();
  if (!key_problem) throw ShapeError(msg);
  throw ValueError(msg);
}

void copy_values(const Tensor& dst, const Tensor& src) {
  NoGradGuard no_grad;
  if (dst.is_same(src)) return;
  raw::copy_(dst, src.device() == dst.device() ? src : raw::to(src, dst.device()));
}

}  // namespace diffvi::nn
