// Must NOT compile: the kernel poison header forbids heap allocation (checked by ctest).
#include <cstdlib>

#include "tapsift_hls/no_alloc.hpp"

#ifdef VIOLATE_WITH_NEW
int *kernel_that_allocates() {
    return new int(1);
}
#else
int *kernel_that_allocates() {
    return static_cast<int *>(malloc(sizeof(int)));
}
#endif
