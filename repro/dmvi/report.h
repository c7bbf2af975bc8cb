// repro-dmvi's outputs: DIR/results.json ({"rows": [...]}, one row per model, N and method,
// averaged over seeds), DIR/bounds.json (DMVI's bound on log p(y)), DIR/results.md (our table
// beside the paper's figures, the targets, the bounds) and DIR/<model>-<n>.png (DMVI
// draws over a NUTS density for a few coordinate pairs).
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dmvi/cli.h"
#include "dmvi/run.h"

namespace diffvi::repro::dmvi {

// Accumulates the tables cell by cell, so a long run can write what it has so far.
class Report {
 public:
  Report(const Options& o, Clock::time_point start);

  // Adds one model and N to every table and draws its figure.
  void add(const CellResult& cell);
  // Writes the JSON files and results.md; `finished` false marks results.md as partial.
  void write(bool finished) const;

 private:
  using json = nlohmann::json;

  json add_row(const CellResult& cell, const std::string& method);
  void add_bound(const CellResult& cell, const std::vector<RunResult>& v);
  void add_targets(const CellResult& cell, const std::map<std::string, json>& by_method);
  std::string markdown(bool finished) const;

  const Options& o_;
  Clock::time_point start_;
  std::filesystem::path dir_;
  json rows_ = json::array(), bounds_ = json::array();
  std::ostringstream table_, targets_, bound_md_, bound_notes_;
};

}  // namespace diffvi::repro::dmvi
