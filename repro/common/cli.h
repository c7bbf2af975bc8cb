// The command-line flags every paper binary shares (DESIGN.md "Binaries, benchmarks, tests"):
// --quick, --out DIR, --seed N, --threads N. A binary adds its own flags to the same CLI::App,
// then parses through parse_command_line, which also applies the common ones.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace diffvi::repro {

struct CommonFlags {
  bool quick = false;
  std::string out;  // output directory; the binary sets its default before add_common_flags
  uint64_t seed = 0;
  int threads = 1;
};

// What --quick and --seed mean differ per binary, so their help texts come from it.
struct CommonHelp {
  std::string quick = "a short run";
  std::string seed = "random seed";
};

// For counts (threads, seeds, draws): a whole number >= 1. CLI11's PositiveNumber would also
// do, but its message ("not in range 0.000000 to 1797…") does not say what is wanted.
const CLI::Validator& at_least_one();

// Adds the four flags to `app`, bound to `flags` (whose current values are the defaults shown by
// --help); --threads must be at least 1.
void add_common_flags(CLI::App& app, CommonFlags& flags, const CommonHelp& help = {});

// Parses argv. After --help or bad input it prints as CLI11_PARSE does and returns the exit code
// main should return (0 for --help, CLI11's code for a parse error; 1 where --out cannot be
// created, the message naming --out). Otherwise applies --threads (diffvi::set_num_threads),
// creates the --out directory and returns nullopt.
std::optional<int> parse_command_line(CLI::App& app, const CommonFlags& flags, int argc,
                                      char** argv);

}  // namespace diffvi::repro
