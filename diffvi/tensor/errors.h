// Typed exceptions. Every message names the op and its arguments' shapes, dtypes and devices,
// prefixed by the active error context (e.g. a module path) so a failure deep inside a network
// says where it happened.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace diffvi {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what);
};
class ShapeError : public Error {
  using Error::Error;
};
class DTypeError : public Error {
  using Error::Error;
};
class DeviceError : public Error {
  using Error::Error;
};
class ValueError : public Error {
  using Error::Error;
};
class IndexError : public Error {
  using Error::Error;
};
class IOError : public Error {
  using Error::Error;
};
class AutogradError : public Error {
  using Error::Error;
};

// Pushes a label (such as "net.layers.2") onto a thread-local stack for the guard's lifetime;
// errors raised meanwhile are prefixed with the joined labels.
class ErrorContext {
 public:
  explicit ErrorContext(std::string label);
  ~ErrorContext();
  ErrorContext(const ErrorContext&) = delete;
  ErrorContext& operator=(const ErrorContext&) = delete;
  static std::string current();  // "" when empty, else "a.b.c: "
};

}  // namespace diffvi
