// Helpers for tests that require a typed error and check what its message names.
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>

namespace errtest {

// Runs f, requires an exception of type E, and returns its message for content checks.
template <class E, class F>
std::string MessageOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception thrown";
  return "";
}

}  // namespace errtest

#define EXPECT_CONTAINS(msg, part) \
  EXPECT_NE((msg).find(part), std::string::npos) << "'" << (part) << "' not in: " << (msg)
