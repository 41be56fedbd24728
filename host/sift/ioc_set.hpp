// Threat-intel indicators (IPs and CIDRs) loaded from plain-text and MISP CSV files: the exact
// set the host confirms kernel "maybe" hits against, and the builder of the kernel's filter.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "wire/ioc_filter.hpp"

namespace tapsift::sift {

// At 1 M indicators every byte here counts: what is the same for a whole file (its name,
// provider) or for every indicator of a family (type) is a view into the set's own storage.
struct Indicator {
    std::string value;          // as the file wrote it, normalised: "10.0.0.0/8", "2001:db8::1"
    std::string_view type;      // ECS threat.indicator.type: "ipv4-addr" | "ipv6-addr"
    std::string_view provider;  // the file's name without directory and extension
    std::string description;    // MISP comment; plain text: the comment after '#' on the line
    std::string reference;      // MISP: "misp:event/<event_id>/attribute/<uuid>"; else empty
    std::string_view file;
    uint32_t line = 0;
};

// "FILE:LINE: what is wrong".
class IocError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct IocLoadStats {
    uint64_t indicators = 0;      // loaded
    uint64_t duplicates = 0;      // same prefix again: the first one is kept
    uint64_t skipped_non_ip = 0;  // MISP rows whose type is not an IP (domain, hash, ...)
};

class IocSet {
  public:
    IocSet();
    ~IocSet();
    IocSet(IocSet &&) noexcept;
    IocSet &operator=(IocSet &&) noexcept;

    // Adds a file's indicators. MISP CSV when the first line is a header with "type" and "value"
    // columns (rows of type ip-src, ip-dst, ip-src|port, ip-dst|port are loaded); otherwise
    // plain text: one IP or CIDR per line, '#' starts a comment (so does ';', as in Spamhaus
    // DROP lists), blank lines are skipped. A line that is neither, or a CIDR with host bits set
    // ("10.1.2.3/8"), is an IocError naming the file and line; a file that fails adds nothing.
    // IPv6 text of an IPv4-mapped address is IPv4 ("::ffff:192.0.2.0/120" is 192.0.2.0/24).
    void load_file(const std::string &path);
    // The same, from text already read; name stands for the file in errors and provenance.
    void load_text(const std::string &text, const std::string &name);
    const IocLoadStats &stats() const;
    size_t size() const;

    // The most specific indicator containing addr (16 bytes, IPv4-mapped for IPv4), or nullptr.
    // IPv4-mapped addresses are matched against IPv4 indicators only. Valid until the next load.
    const Indicator *lookup(const uint8_t addr16[16]) const;

    // The kernel filter for these indicators, filter_bytes of bits (a power of two, at least 64)
    // after the header beat. Returned as whole uint64_t words: header first. Another size is a
    // std::invalid_argument. Probes per key: (bits / indicators) ln 2, within 1..8.
    std::vector<uint64_t> build_filter(uint32_t filter_bytes) const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Parses an IPv4/IPv6 address ("192.0.2.1", "2001:db8::1") into 16 bytes, IPv4-mapped for
// IPv4. False when the text is not an address.
bool parse_address(const std::string &text, std::array<uint8_t, 16> &out);

}  // namespace tapsift::sift
