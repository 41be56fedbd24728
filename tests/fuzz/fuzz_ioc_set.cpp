// libFuzzer: the indicator loader (plain text and MISP CSV), the exact set and the kernel filter,
// and the message address scans over the same bytes. Any input is either loaded or an IocError;
// every address the exact set holds must be "maybe" in the filter.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "prefilter/ioc_filter.hpp"
#include "sift/ioc_set.hpp"
#include "sift/message_addresses.hpp"

namespace {

using Addr = std::array<uint8_t, 16>;

void check(const tapsift::sift::IocSet &set, const std::vector<uint64_t> &filter, const Addr &a) {
    const auto &header = *reinterpret_cast<const tapsift::wire::IocFilterHeader *>(filter.data());
    const uint64_t *words = filter.data() + sizeof(header) / 8;
    if (set.lookup(a.data()) != nullptr &&
        !tapsift::hls_kernels::ioc_filter_maybe(header, words, a.data())) {
        std::abort();  // a false negative
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    tapsift::sift::IocSet set;
    try {
        set.load_text(text, "fuzz.txt");
    } catch (const tapsift::sift::IocError &) {
        if (set.size() != 0) std::abort();  // a failed file adds nothing
    }
    const std::vector<uint64_t> filter = set.build_filter(4096);

    std::vector<Addr> addrs;
    tapsift::sift::find_message_addresses(text, addrs);
    // The input's first bytes as an IPv6 and as an IPv4 address.
    Addr raw{};
    std::memcpy(raw.data(), data, size < 16 ? size : 16);
    addrs.push_back(raw);
    Addr mapped{};
    mapped[10] = mapped[11] = 0xff;
    std::memcpy(mapped.data() + 12, data, size < 4 ? size : 4);
    addrs.push_back(mapped);
    for (const char *fixed : {"192.0.2.1", "10.0.0.1", "2001:db8::1", "::"}) {
        Addr a{};
        tapsift::sift::parse_address(fixed, a);
        addrs.push_back(a);
    }
    for (const Addr &a : addrs) check(set, filter, a);
    return 0;
}
