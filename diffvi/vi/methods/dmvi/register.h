// Registers "dmvi" with fit(): DmviOptions, validated, and the shared settings DMVI was tuned
// with (dmvi_defaults(); docs/dmvi.md says how they were chosen).
#pragma once

#include "diffvi/vi/infer/fit_options.h"
#include "diffvi/vi/methods/dmvi/dmvi.h"

namespace diffvi::vi {

void register_dmvi();

// The shared settings "dmvi" runs with when the caller sets none: 5000 steps at lr 2e-3 decayed
// to 1%, AdamW weight decay 1e-5, 48 draws per step.
FitSettings dmvi_defaults();

// ValueError naming the first bad field of `options`.
void validate(const DmviOptions& options);

}  // namespace diffvi::vi
