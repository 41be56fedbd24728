// Must NOT compile: the kernel poison header forbids heap allocation (checked by ctest).
#include <cstdlib>

#include "tapsift_hls/no_alloc.hpp"

int *kernel_that_allocates() { return static_cast<int *>(malloc(sizeof(int))); }
