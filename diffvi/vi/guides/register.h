// Registers the guides/ methods with fit(): "advi", "advi-fullrank" (AdviOptions) and "maf",
// "iaf", "realnvp" (FlowOptions), all with FitSettings' generic defaults.
#pragma once

namespace diffvi::vi {

void register_guides();

}  // namespace diffvi::vi
