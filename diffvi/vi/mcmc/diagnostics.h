// MCMC diagnostics over several chains: split R-hat (Gelman et al., BDA3 §11.4) and the
// effective sample size from autocorrelations combined across chains with Geyer's initial
// monotone sequence (as Stan computes it, here on split chains).
#pragma once

#include <vector>

namespace diffvi::vi {

// chains[c][i]: draw i of chain c (equal lengths, >= 4). Returns R-hat (1 at convergence).
double split_rhat(const std::vector<std::vector<double>>& chains);
// Effective sample size of the pooled draws.
double effective_sample_size(const std::vector<std::vector<double>>& chains);

}  // namespace diffvi::vi
