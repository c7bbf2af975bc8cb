// Registration and threading of the CPU backend (oneDNN plumbing: cpu_dnnl.cpp).
#include "diffvi/backends/cpu/cpu_backend.h"

#include <cblas.h>
#include <omp.h>

namespace diffvi {

void CpuBackend::set_num_threads(int n) {
  omp_set_num_threads(n);
  // The OpenMP build of OpenBLAS follows omp_get_max_threads(), but it keeps its own cap too.
  openblas_set_num_threads(n);
}

namespace {

CpuBackend instance;
const bool registered = (register_backend(&instance, /*make_default=*/true), true);

}  // namespace

}  // namespace diffvi
