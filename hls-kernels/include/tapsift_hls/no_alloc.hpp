// Included last by every kernel source: from here on, heap allocation cannot be written,
// because it cannot be synthesized. A violation fails the build instead of working in C sim.
#pragma once

#pragma GCC poison malloc calloc realloc free aligned_alloc
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wkeyword-macro"  // hiding the keyword is the point
#endif
#define new tapsift_kernel_code_must_not_use_new
#define delete tapsift_kernel_code_must_not_use_delete
