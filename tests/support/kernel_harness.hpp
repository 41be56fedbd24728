// Test helper: runs syslog_parse on single messages through a real ingest batch, exactly as the
// cpu backend does, and returns the descriptor with its spans resolved to strings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wire/descriptor.hpp"

namespace tapsift::testing {

struct ParsedSyslog {
    wire::Descriptor d;
    std::string payload;
    std::string hostname, appname, procid, msgid, structured_data, message;
    bool malformed() const { return d.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed); }
    int facility() const { return d.priority >> 3; }
    int severity() const { return d.priority & 7; }
};

// 2026-11-01T00:00:00Z, the arrival time used unless a test says otherwise.
constexpr int64_t kDefaultArrivalNs = 1793491200LL * 1000000000LL;

std::vector<ParsedSyslog> parse_messages(const std::vector<std::string> &messages,
                                         int64_t arrival_ns = kDefaultArrivalNs,
                                         int32_t utc_offset_s = 0, uint8_t record_flags = 0);
ParsedSyslog parse_message(const std::string &message, int64_t arrival_ns = kDefaultArrivalNs,
                           int32_t utc_offset_s = 0);

}  // namespace tapsift::testing
