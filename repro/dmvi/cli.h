// repro-dmvi's command line: the common flags (common/cli.h) plus the models, sizes, seeds and
// methods to run and the overrides of DMVI's settings used to study it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/cli.h"

namespace diffvi::repro::dmvi {

// Each field's neutral value leaves DMVI's setting as run_options chooses it.
struct DmviOverrides {
  int64_t steps = 0;  // 0: the default for quick / full
  int64_t T = 0;
  int64_t particles = 0;
  double lr = 0;
  double dropout = -1;
  int64_t hidden = 0;
  bool no_gains = false;
  int order = 0;
  int64_t advi_steps = -1;
  double t_min = 0;
  bool no_stl = false;
  bool no_scales = false;
};

struct Options {
  CommonFlags common;  // seed: the first seed; a run uses seeds seed … seed + seeds − 1
  std::vector<std::string> models;
  std::vector<int64_t> ns{100, 1000};
  int seeds = 5;
  std::vector<std::string> methods{"nuts", "dmvi", "advi", "nfvi"};
  int64_t draws = 20000;
  bool details = false;
  DmviOverrides dmvi;
  std::string command_line;  // the arguments as given, for results.md
};

// Parses argv into `o`, filling in what --quick and the absence of --models imply. Returns the
// exit code main should return after --help or bad input (see parse_command_line), else nullopt.
std::optional<int> parse_options(int argc, char** argv, Options& o);

}  // namespace diffvi::repro::dmvi
