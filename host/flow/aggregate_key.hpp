// What flow records are folded by in aggregation mode (flows.aggregate.key): the fields a key may
// hold, their config names, and the key itself. Fields not in the configured key stay zero, so
// two records fall into one aggregate exactly when their keys compare equal byte for byte.
#pragma once

#include <cstdint>

namespace tapsift::flow {

enum class AggregateField : uint8_t {
    kExporter,           // observer.ip
    kObservationDomain,  // netflow.exporter.source_id
    kInInterface,        // observer.ingress.interface.id (IE 10)
    kOutInterface,       // observer.egress.interface.id (IE 14)
    kSrcAs,              // source.as.number (IE 16)
    kDstAs,              // destination.as.number (IE 17)
    kSrcPrefix,          // source.ip + source.address: the prefix of flows.aggregate.ipv4/6_prefix
    kDstPrefix,          // destination.ip + destination.address
    kProtocol,           // network.iana_number, network.transport
    kSrcPort,            // source.port
    kDstPort,            // destination.port
    kDirection,          // network.direction (IE 61)
    kTos,                // netflow.ip_class_of_service
    kCount
};

// flows.aggregate.key names, in AggregateField order.
constexpr const char *kAggregateFieldNames[] = {
    "exporter", "observation_domain", "in_interface", "out_interface", "src_as",
    "dst_as",   "src_prefix",         "dst_prefix",   "protocol",      "src_port",
    "dst_port", "direction",          "tos"};
static_assert(sizeof kAggregateFieldNames / sizeof kAggregateFieldNames[0] ==
                  static_cast<size_t>(AggregateField::kCount),
              "one name per field");

constexpr uint32_t field_bit(AggregateField f) {
    return 1u << static_cast<uint32_t>(f);
}

struct AggregateKey {
    int64_t window_start_ns;
    uint8_t exporter[16];  // IPv4-mapped for IPv4, as on the wire
    uint8_t src[16];       // masked to its prefix
    uint8_t dst[16];
    uint32_t observation_domain;
    uint32_t in_interface;
    uint32_t out_interface;
    uint32_t src_as;
    uint32_t dst_as;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t protocol;
    uint8_t direction;
    uint8_t tos;
    uint8_t src_prefix_length;  // bits, within the address's family (IPv4: 0-32)
    uint8_t dst_prefix_length;
    uint8_t pad[3];
};
static_assert(sizeof(AggregateKey) == 88, "no implicit padding: keys compare as bytes");

}  // namespace tapsift::flow
