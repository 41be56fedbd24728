#include <spdlog/spdlog.h>

#include "offload_backend.hpp"

namespace tapsift::drivers {

BackendKind parse_backend_kind(const std::string &s, bool &ok) {
    ok = true;
    if (s == "auto") return BackendKind::kAuto;
    if (s == "cpu") return BackendKind::kCpu;
    if (s == "xrt") return BackendKind::kXrt;
    ok = false;
    return BackendKind::kAuto;
}

XrtDevice parse_xrt_device(const std::string &s, bool &ok) {
    ok = true;
    if (s == "card") return XrtDevice::kCard;
    if (s == "emulated") return XrtDevice::kEmulated;
    ok = false;
    return XrtDevice::kCard;
}

std::unique_ptr<OffloadBackend> open_backend(const BackendConfig &cfg, std::string &why) {
    switch (cfg.kind) {
        case BackendKind::kCpu:
            return open_cpu_backend(cfg, why);
        case BackendKind::kXrt:
            return load_xrt_backend(cfg, why);
        case BackendKind::kAuto:
            break;
    }
    std::string xrt_why;
    if (auto xrt = load_xrt_backend(cfg, xrt_why)) return xrt;
    spdlog::info("offload backend: auto chose cpu, because xrt is unavailable: {}", xrt_why);
    return open_cpu_backend(cfg, why);
}

}  // namespace tapsift::drivers
