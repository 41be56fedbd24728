// The xrt backend is built twice from the same xrt_backend.cpp, as two shared objects, because
// the emulated card defines the XRT API symbols libxrt_coreutil defines: the two must never share
// a link. This loads the one offload.device names, from (in order) $TAPSIFT_BACKEND_DIR, the
// running executable's folder (the build tree), and the install's lib/tapsift.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "offload_backend.hpp"

namespace tapsift::drivers {
namespace {

std::vector<std::string> module_dirs() {
    std::vector<std::string> dirs;
    if (const char *env = std::getenv("TAPSIFT_BACKEND_DIR"); env && *env) dirs.emplace_back(env);
    char exe[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        const std::string path(exe, static_cast<size_t>(n));
        dirs.push_back(path.substr(0, path.rfind('/')));
    }
    dirs.emplace_back(TAPSIFT_INSTALL_BACKEND_DIR);
    return dirs;
}

bool exists(const std::string &path) {
    return access(path.c_str(), R_OK) == 0;
}

}  // namespace

std::unique_ptr<OffloadBackend> load_xrt_backend(const BackendConfig &cfg, std::string &why) {
    const bool emulated = cfg.device == XrtDevice::kEmulated;
    const std::string file = emulated ? "tapsift_xrt_emulated.so" : "tapsift_xrt_card.so";
    std::string looked;
    for (const std::string &dir : module_dirs()) {
        const std::string path = dir + "/" + file;
        if (!exists(path)) {
            looked += (looked.empty() ? "" : ", ") + dir;
            continue;
        }
        // Never closed: the backend's code and ops table live in it (and the emulated card
        // writes TAPSIFT_EMU_STATS when the process exits).
        void *module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (module == nullptr) {
            why = std::string("cannot load ") + path + ": " + dlerror();
            return nullptr;
        }
        auto *open = reinterpret_cast<decltype(&tapsift_open_xrt_backend)>(
            dlsym(module, "tapsift_open_xrt_backend"));
        if (open == nullptr) {
            why = path + " has no tapsift_open_xrt_backend";
            return nullptr;
        }
        BackendConfig c = cfg;
        if (emulated && c.xclbin.empty()) c.xclbin = dir + "/tapsift_emulated.xclbin";
        spdlog::info("offload backend: xrt on the {} ({}, xclbin {})",
                     emulated ? "emulated card" : "card", path, c.xclbin);
        return std::unique_ptr<OffloadBackend>(open(&c, &why));
    }
    why = "no " + file + " in " + looked;
    return nullptr;
}

}  // namespace tapsift::drivers
