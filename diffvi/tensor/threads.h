// One knob for every thread pool (OpenMP, which oneDNN and OpenMP-flavoured OpenBLAS share).
#pragma once

namespace diffvi {

void set_num_threads(int n);  // ValueError for n < 1
int get_num_threads();

}  // namespace diffvi
