#include "diffvi/tensor/errors.h"

namespace diffvi {
namespace {
thread_local std::vector<std::string> g_context;
}

Error::Error(const std::string& what) : std::runtime_error(ErrorContext::current() + what) {}

ErrorContext::ErrorContext(std::string label) { g_context.push_back(std::move(label)); }
ErrorContext::~ErrorContext() { g_context.pop_back(); }

std::string ErrorContext::current() {
  if (g_context.empty()) return "";
  std::string out;
  for (const auto& part : g_context) {
    if (part.empty()) continue;
    if (!out.empty()) out += '.';
    out += part;
  }
  return out.empty() ? out : out + ": ";
}

}  // namespace diffvi
