// The flow item batch: what flow_parse returns for one ingest batch of NetFlow/IPFIX datagrams.
// A datagram yields one item per data record, one per data set whose template is not known yet,
// one per change it made to the engine's state (wire/flow_store_change.hpp), in the order it
// made them, then one kPacketDone item that closes it. Items are 128 bytes; record bytes stay in
// the payload and are referenced by span.
#pragma once

#include <cstdint>

#include "descriptor.hpp"

namespace tapsift::wire {

// Enough for 256 datagrams of 63 records (or state changes) each. Records past it are counted
// (items_output_full); a state change with no room for its item is not made (changes_refused).
constexpr uint32_t kMaxFlowItemsPerBatch = 16384;
constexpr uint16_t kNoTemplateSlot = 0xffff;

enum class FlowItem : uint8_t {
    kRecord = 0,      // one data (or options data) record
    kPendingSet = 1,  // a data set that arrived before its template: the host holds it
    kPacketDone = 2,  // the datagram's outcome
    // Changes of the engine's state, as wire::FlowStoreChange items: the host keeps its copy of
    // the state (host/flow/template_mirror) from these alone.
    kTemplateLearned = 3,    // a new key, in a free slot or one kTemplateEvicted just emptied
    kTemplateReplaced = 4,   // a known key with another definition: a new generation
    kTemplateRefreshed = 5,  // the same definition again: only refreshed_ns moves
    kTemplateWithdrawn = 6,  // IPFIX withdrawal
    kTemplateEvicted = 7,    // the set was full: the least recently used template made room
    kTemplateExpired = 8,    // not refreshed within the template timeout
    kExporterOptions = 9,    // an exporter's sampling rate or system init time learned or changed
    kExporterOptionsEvicted = 10,  // its sampler table slot was taken by another exporter
};

constexpr bool is_store_change(uint8_t item) {
    return item >= static_cast<uint8_t>(FlowItem::kTemplateLearned) &&
           item <= static_cast<uint8_t>(FlowItem::kExporterOptionsEvicted);
}

// Why a datagram could not be decoded (kPacketDone with Verdict::kMalformed). Records decoded
// before the fault are still returned.
enum class FlowMalformed : uint8_t {
    kNone = 0,
    kTruncatedHeader = 1,  // shorter than the version's header
    kBadVersion = 2,       // the version does not match the record kind
    kBadLength = 3,        // IPFIX message length past the datagram (or short of its header), or a
                           // v5 count past it
    kBadSetLength = 4,     // a set (flowset) shorter than its header or running past the datagram
    kCount
};

enum FlowRecordFlags : uint8_t {
    kFlowOptions = 1u << 0,   // options data (exporter or sampler metadata), not a flow
    kFlowBiflow = 1u << 1,    // carries RFC 5103 reverse IEs (PEN 29305)
    kFlowHasStart = 1u << 2,  // start_ns is set
    kFlowHasEnd = 1u << 3,    // end_ns is set
    kFlowHasAddresses = 1u << 4,
};

struct FlowDescriptor {
    uint32_t record_index;  // the ingest record (datagram)
    uint8_t item;           // FlowItem
    uint8_t verdict;        // Verdict
    uint16_t rule_id;
    uint8_t kind;              // RecordKind
    uint8_t malformed_reason;  // FlowMalformed, kPacketDone only
    uint8_t flags;             // FlowRecordFlags
    uint8_t protocol;
    uint16_t template_id;          // the data set's id; 0 for NetFlow v5
    uint16_t template_slot;        // in FlowParseState::templates; kNoTemplateSlot for v5
    uint32_t template_generation;  // the slot's generation when this record was decoded
    uint32_t observation_domain;   // v9 source ID or IPFIX observation domain
    Span record;                   // kRecord: the record; kPendingSet: the whole set
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t tcp_flags;
    uint8_t ip_tos;
    uint8_t direction;  // IE 61: 0 ingress, 1 egress, 0xff unknown
    uint8_t sampling_algorithm;
    uint32_t sampling_interval;  // 1 in N packets; 0 when the exporter has not said
    uint32_t items_lost;         // kPacketDone: this datagram's items past the batch's capacity
    uint32_t sys_uptime_ms;      // v5/v9 header
    uint64_t bytes;
    uint64_t packets;
    int64_t start_ns;   // UTC
    int64_t end_ns;     // UTC
    int64_t export_ns;  // the datagram's export time, UTC
    SiftResult sift;
    uint8_t src_addr[16];  // IPv4-mapped for IPv4
    uint8_t dst_addr[16];
};

static_assert(sizeof(FlowDescriptor) == kDescriptorBytes, "a flow item is two beats");

}  // namespace tapsift::wire
