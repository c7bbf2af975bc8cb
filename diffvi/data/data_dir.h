// Where downloaded data sets live: `$DIFFVI_DATA_DIR` when set, else `<repo>/data` (the source
// tree's data/ folder, which git ignores). Readers take an explicit directory that overrides both.
#pragma once

#include <string>

namespace diffvi::data {

// The data root: $DIFFVI_DATA_DIR if set and non-empty, else "<repo>/data".
std::string data_root();

}  // namespace diffvi::data
