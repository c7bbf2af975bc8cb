#include "diffvi/tensor/threads.h"

#include <omp.h>

#include <string>

#include "diffvi/tensor/backend.h"
#include "diffvi/tensor/errors.h"

namespace diffvi {

void set_num_threads(int n) {
  if (n < 1) throw ValueError("set_num_threads: n must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  for (const char* name : {"reference", "cpu", "cuda"}) {
    if (Backend* b = find_backend(name)) b->set_num_threads(n);
  }
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace diffvi
