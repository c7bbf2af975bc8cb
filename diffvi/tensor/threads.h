// One knob for every thread pool (OpenMP, which oneDNN and OpenMP-flavoured OpenBLAS share).
#pragma once

namespace diffvi {

// Sets OpenMP's thread count and each backend's (OpenBLAS keeps its own, process-wide cap).
// OpenMP keeps the count per thread: the parallel regions of the calling thread use it, other
// std::threads keep OMP_NUM_THREADS' value, so a program that runs diffvi ops from several
// std::threads calls this on each. ValueError for n < 1.
void set_num_threads(int n);
int get_num_threads();

}  // namespace diffvi
