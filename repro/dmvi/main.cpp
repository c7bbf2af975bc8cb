// repro-dmvi: DMVI against ADVI (mean-field), NFVI (2-layer MAF, MADE [256, 256]) and NUTS on
// the paper's models (REFERENCE.md §4). Each seed draws its own true parameters and data.
// cli.h has the command line, run.h the experiments, report.h what is written to --out.
#include <cstdio>
#include <exception>

#include "dmvi/cli.h"
#include "dmvi/report.h"
#include "dmvi/run.h"

namespace dm = diffvi::repro::dmvi;

int main(int argc, char** argv) {
  dm::Options o;
  if (auto code = dm::parse_options(argc, argv, o)) return *code;
  try {
    const auto start = dm::Clock::now();
    dm::Report report(o, start);
    for (const std::string& model : o.models) {
      for (int64_t n : o.ns) {
        report.add(dm::run_cell(o, model, n, start));
        report.write(false);
      }
    }
    report.write(true);
    std::fprintf(stderr, "done in %.1f s; wrote %s\n", dm::seconds_since(start),
                 o.common.out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "repro-dmvi: %s\n", e.what());
    return 1;
  }
  return 0;
}
