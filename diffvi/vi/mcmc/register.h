// Registers "nuts" with fit() as a sampler (NutsOptions; FitOptions::seed seeds the chains).
#pragma once

namespace diffvi::vi {

void register_mcmc();

}  // namespace diffvi::vi
