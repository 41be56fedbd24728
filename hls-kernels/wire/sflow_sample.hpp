// The sFlow item batch: what sflow_parse returns for one ingest batch of sFlow v5 datagrams
// (sFlow version 5, sflow.org/sflow_version_5.txt). A datagram yields one kFlowSample or
// kCounterSample item per sample it decoded, then one kDatagramDone item that closes it. Items
// are self-contained (the datagram's agent and sequence are copied into each) and six beats.
#pragma once

#include <cstdint>

#include "descriptor.hpp"

namespace tapsift::wire {

constexpr uint32_t kSflowItemBytes = 384;
constexpr uint32_t kSflowItemBeats = kSflowItemBytes / kBeatBytes;
// Samples one datagram may yield; more are counted (samples_over_limit) and skipped.
constexpr uint32_t kMaxSflowSamplesPerDatagram = 64;
// Records one sample may carry; more are counted (records_over_limit) and skipped.
constexpr uint32_t kMaxSflowRecordsPerSample = 16;
// Enough for 256 datagrams of 16 samples each; samples past it are counted (items_output_full).
constexpr uint32_t kMaxSflowItemsPerBatch = 4096;

enum class SflowItem : uint8_t {
    kFlowSample = 0,     // flow_sample or flow_sample_expanded
    kCounterSample = 1,  // counters_sample or counters_sample_expanded
    kDatagramDone = 2,   // the datagram's outcome
};

// Why a datagram could not be decoded (kDatagramDone with Verdict::kMalformed). Samples decoded
// before the fault are still returned.
enum class SflowMalformed : uint8_t {
    kNone = 0,
    kTruncatedHeader = 1,  // shorter than the datagram header
    kBadVersion = 2,       // not version 5
    kBadAgentType = 3,     // agent address type neither 1 (IPv4) nor 2 (IPv6)
    kBadSampleLength = 4,  // a sample runs past the datagram
    kBadRecordLength = 5,  // a flow or counter record runs past its sample
    kBadSampleHeader = 6,  // a sample shorter than its fixed fields
    kMissingSamples = 7,   // the header counts more samples than the datagram holds
    kCount
};

enum SflowFlags : uint32_t {
    kSflowExpanded = 1u << 0,         // the expanded sample format (enterprise 0, format 3 or 4)
    kSflowAgentIpv6 = 1u << 1,        //
    kSflowHasHeader = 1u << 2,        // a sampled_header record was read
    kSflowHasEthernet = 1u << 3,      // MACs and ether_type are set (header or sampled_ethernet)
    kSflowHasIp = 1u << 4,            // addresses, protocol and tos are set
    kSflowIpv6 = 1u << 5,             // the sampled packet is IPv6
    kSflowHasPorts = 1u << 6,         // src_port / dst_port are set (TCP or UDP)
    kSflowHasIcmp = 1u << 7,          // icmp_type / icmp_code are set
    kSflowHasSwitch = 1u << 8,        // extended_switch
    kSflowHasRouter = 1u << 9,        // extended_router
    kSflowHasGateway = 1u << 10,      // extended_gateway
    kSflowHasGeneric = 1u << 11,      // generic interface counters
    kSflowHasEthCounters = 1u << 12,  // Ethernet interface counters
    kSflowHeaderCut = 1u << 13,       // the sampled header ended inside a layer it began to decode
    kSflowNextHopIpv6 = 1u << 14,     // next_hop is IPv6 (otherwise IPv4-mapped)
    kSflowHasVlan = 1u << 15,         // vlan (the outermost 802.1Q tag in the header) is set
};

// Generic interface counters (counter record 1), in the agent's units.
struct SflowIfCounters {
    uint64_t speed;
    uint64_t in_octets;
    uint64_t out_octets;
    uint32_t index;
    uint32_t type;
    uint32_t direction;
    uint32_t status;
    uint32_t in_ucast;
    uint32_t in_multicast;
    uint32_t in_broadcast;
    uint32_t in_discards;
    uint32_t in_errors;
    uint32_t in_unknown_protos;
    uint32_t out_ucast;
    uint32_t out_multicast;
    uint32_t out_broadcast;
    uint32_t out_discards;
    uint32_t out_errors;
    uint32_t promiscuous;
};

// Ethernet interface counters (counter record 2): dot3Stats, in the MIB's order.
constexpr uint32_t kSflowEthCounters = 13;

struct SflowSample {
    uint32_t record_index;     // the ingest record (datagram)
    uint8_t item;              // SflowItem
    uint8_t verdict;           // Verdict (the prefilter's, for samples)
    uint8_t malformed_reason;  // SflowMalformed, kDatagramDone only
    uint8_t header_protocol;   // sampled_header's protocol (1 Ethernet, 11 IPv4, 12 IPv6)
    uint32_t flags;            // SflowFlags
    uint32_t items_lost;       // kDatagramDone: this datagram's samples past the batch's capacity
    // The datagram
    uint8_t agent[16];  // IPv4-mapped for IPv4
    uint32_t sub_agent_id;
    uint32_t datagram_sequence;
    uint32_t uptime_ms;
    // The sample
    uint32_t sequence;
    uint32_t source_id_type;  // 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry
    uint32_t source_id_index;
    uint32_t sampling_rate;  // 1 in N packets
    uint32_t sample_pool;
    uint32_t drops;
    uint32_t input_format;  // 0 ifIndex, 1 discarded, 2 multiple interfaces
    uint32_t input;         // ifIndex, or the discard reason / interface count by format
    uint32_t output_format;
    uint32_t output;
    // The sampled packet
    uint32_t frame_length;  // bytes on the wire
    uint32_t stripped;      // bytes removed before sampling (e.g. FCS)
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint16_t ether_type;  // of the innermost layer read
    uint16_t vlan;
    uint8_t src_addr[16];  // IPv4-mapped for IPv4
    uint8_t dst_addr[16];
    uint8_t protocol;
    uint8_t tos;  // IPv4 TOS / IPv6 traffic class
    uint8_t ttl;  // IPv4 TTL / IPv6 hop limit
    uint8_t tcp_flags;
    uint16_t src_port;
    uint16_t dst_port;
    uint8_t icmp_type;
    uint8_t icmp_code;
    uint8_t src_mask;  // extended_router
    uint8_t dst_mask;
    // extended_switch, as sent (0xffffffff: unknown)
    uint32_t src_vlan;
    uint32_t dst_vlan;
    uint32_t src_priority;
    uint32_t dst_priority;
    // extended_router / extended_gateway
    uint8_t next_hop[16];  // IPv4-mapped for IPv4
    uint32_t as;
    uint32_t src_as;
    uint32_t src_peer_as;
    uint32_t dst_as;       // the last AS of the destination path
    uint32_t dst_peer_as;  // the first
    // Counter samples
    SflowIfCounters ifc;
    uint32_t eth[kSflowEthCounters];
    // What the prefilter wrote (flow_sift): the deciding rule and the tag rules matched.
    uint16_t rule_id;
    uint8_t reserved1[2];
    SiftResult sift;
    uint8_t reserved2[24];
};

static_assert(sizeof(SflowSample) == kSflowItemBytes, "an sFlow item is six beats");

}  // namespace tapsift::wire
