#include "common/cli.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "diffvi/tensor/threads.h"

namespace diffvi::repro {

const CLI::Validator& at_least_one() {
  static const CLI::Validator v(
      [](std::string& s) -> std::string {
        size_t used = 0;
        long long x = 0;
        try {
          x = std::stoll(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != s.size() || used == 0 || x < 1) return "must be an integer >= 1, got " + s;
        return "";
      },
      ">=1");
  return v;
}

void add_common_flags(CLI::App& app, CommonFlags& flags, const CommonHelp& help) {
  app.add_flag("--quick", flags.quick, help.quick);
  app.add_option("--out", flags.out, "output directory")->capture_default_str();
  app.add_option("--seed", flags.seed, help.seed)->capture_default_str();
  app.add_option("--threads", flags.threads, "threads for diffvi")
      ->capture_default_str()
      ->check(at_least_one());
}

std::optional<int> parse_command_line(CLI::App& app, const CommonFlags& flags, int argc,
                                      char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  const std::string program = std::filesystem::path(argv[0]).filename().string();
  try {
    diffvi::set_num_threads(flags.threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: --threads %d: %s\n", program.c_str(), flags.threads, e.what());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(flags.out, ec);
  if (ec) {
    std::fprintf(stderr, "%s: --out %s: cannot create the directory: %s\n", program.c_str(),
                 flags.out.c_str(), ec.message().c_str());
    return 1;
  }
  return std::nullopt;
}

}  // namespace diffvi::repro
