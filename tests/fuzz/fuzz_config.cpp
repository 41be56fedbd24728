// libFuzzer: the YAML config loader. Any input is either a Config or a ConfigError.
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        tapsift::config::load_config_string(std::string(reinterpret_cast<const char *>(data), size),
                                            "fuzz.yaml");
    } catch (const tapsift::config::ConfigError &) {
    }
    return 0;
}
