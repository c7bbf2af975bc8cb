// The methods that ship with the library: one line per folder that registers methods. Each
// folder's registration code lives in that folder (register.h/.cpp); this file, like vi.h, sits
// above the folders and is the one shared place a new method adds a line.
#include "diffvi/vi/guides/register.h"
#include "diffvi/vi/infer/registry.h"
#include "diffvi/vi/mcmc/register.h"
#include "diffvi/vi/methods/dmvi/register.h"

namespace diffvi::vi {

void register_builtin_methods() {
  register_guides();           // advi, advi-fullrank, maf, iaf, realnvp
  register_mcmc();             // nuts
  register_dmvi();             // dmvi
  set_default_method("nuts");  // what FitOptions{} runs: the gold standard
}

}  // namespace diffvi::vi
