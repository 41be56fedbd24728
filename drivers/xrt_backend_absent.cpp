// Linked instead of xrt_backend_loader.cpp when the build has TAPSIFT_WITH_XRT=OFF.
#include "offload_backend.hpp"

namespace tapsift::drivers {

std::unique_ptr<OffloadBackend> load_xrt_backend(const BackendConfig &, std::string &why) {
    why = "this build has no XRT support (configured with TAPSIFT_WITH_XRT=OFF)";
    return nullptr;
}

}  // namespace tapsift::drivers
