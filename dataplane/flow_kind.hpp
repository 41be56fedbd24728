// Flow datagrams are told apart by their version field, whatever port the exporter uses.
#pragma once

#include <cstdint>

#include "wire/ingest_batch.hpp"

namespace tapsift::dataplane {

inline bool flow_kind(const uint8_t *payload, uint32_t len, wire::RecordKind &kind) {
    if (len < 2) return false;
    switch ((payload[0] << 8) | payload[1]) {
        case 5:
            kind = wire::RecordKind::kNetflowV5;
            return true;
        case 9:
            kind = wire::RecordKind::kNetflowV9;
            return true;
        case 10:
            kind = wire::RecordKind::kIpfix;
            return true;
        default:
            return false;
    }
}

}  // namespace tapsift::dataplane
