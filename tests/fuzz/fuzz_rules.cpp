// libFuzzer: the rule loader. Any input is either rules or a RuleError naming file and line.
#include <cstdint>
#include <string>

#include "sift/rule_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        tapsift::sift::load_rules_text(std::string(reinterpret_cast<const char *>(data), size),
                                       "fuzz.yaml");
    } catch (const tapsift::sift::RuleError &) {
    }
    return 0;
}
