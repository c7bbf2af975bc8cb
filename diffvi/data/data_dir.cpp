#include "diffvi/data/data_dir.h"

#include <cstdlib>

#ifndef DIFFVI_SOURCE_DIR
#define DIFFVI_SOURCE_DIR "."
#endif

namespace diffvi::data {

std::string data_root() {
  const char* env = std::getenv("DIFFVI_DATA_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return std::string(DIFFVI_SOURCE_DIR) + "/data";
}

}  // namespace diffvi::data
