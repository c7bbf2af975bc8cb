// Runs the vi suite on one thread: its tensors are tiny, and OpenMP barriers around them cost more
// than the work (badly so on a loaded 2-core machine).
#include <gtest/gtest.h>

#include "diffvi/diffvi.h"

namespace {

class SingleThread : public ::testing::Environment {
 public:
  void SetUp() override { diffvi::set_num_threads(1); }
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SingleThread);

}  // namespace
