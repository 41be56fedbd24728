// One sifting rule as written in the config or a rule file: what it matches and what it does.
// rule_loader.cpp reads and validates them; ruleset.cpp compiles them for the kernel and
// Hyperscan.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace tapsift::sift {

enum class Action : uint8_t { kDrop, kKeep, kSample, kTag, kRoute };

const char *action_name(Action a);

struct Cidr {
    std::array<uint8_t, 16> addr;  // IPv4-mapped for IPv4, host bits zero
    uint8_t len;                   // over the 16 bytes: an IPv4 /L is 96 + L
    std::string text;
};

struct Range {
    uint32_t lo, hi;
};

struct Rule {
    std::string id;
    std::string file;  // where it was written, for errors, explain and counters
    uint32_t line = 0;

    // Match: every predicate given must hold; an empty list means "any".
    uint8_t kinds = 0;  // wire::PrefilterKind bits
    uint32_t facility_mask = 0xffffff;
    uint8_t severity_mask = 0xff;
    std::vector<std::string> hostnames, appnames, msgids;
    std::vector<std::string> contains;  // any of these literals in the message
    std::string regex;                  // Hyperscan, on the message
    std::vector<Cidr> sources, destinations, exporters;
    std::vector<Range> src_ports, dst_ports, protocols;
    uint64_t bytes_min = 0, bytes_max = std::numeric_limits<uint64_t>::max();
    uint64_t packets_min = 0, packets_max = std::numeric_limits<uint64_t>::max();
    std::vector<std::pair<std::string, std::string>> sec_fields;  // CEF/LEEF field == value
    uint8_t threat_intel = 0;                                     // wire::IocPlace bits

    // Action.
    Action action = Action::kKeep;
    uint32_t sample_one_in = 1;  // sample: keep 1 in N matches
    std::vector<std::string> tags;
    std::string topic;  // route
};

}  // namespace tapsift::sift
