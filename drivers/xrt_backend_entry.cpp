// Compiled into both xrt backend shared objects (tapsift_xrt_card.so against libxrt_coreutil,
// tapsift_xrt_emulated.so against the emulated card): the one symbol load_xrt_backend looks up.
#include "offload_backend.hpp"

extern "C" tapsift::drivers::OffloadBackend *tapsift_open_xrt_backend(
    const tapsift::drivers::BackendConfig *cfg, std::string *why) {
    return tapsift::drivers::open_xrt_backend(*cfg, *why).release();
}
