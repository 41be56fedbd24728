// The flow engine's state: the template store and the sampler table, in fixed-size kernel memory
// (BRAM/URAM on a card). The host reads it to name a record's fields, and saves and restores it
// so templates survive a restart (host/flow/template_file).
#pragma once

#include <cstdint>

namespace tapsift::wire {

// Set-associative, keyed by (exporter, domain, template ID), so one exporter flooding template
// IDs can evict other exporters' templates (counted; a per-exporter quota would stop it).
constexpr uint32_t kTemplateWays = 8;
constexpr uint32_t kTemplateSets = 512;
constexpr uint32_t kTemplateSlots = kTemplateWays * kTemplateSets;
constexpr uint32_t kMaxTemplateFields = 128;
constexpr uint32_t kExporterSlots = 256;
constexpr uint16_t kVariableLength = 0xffff;  // IPFIX variable-length field (RFC 7011 §7)
constexpr uint32_t kReversePen = 29305;       // RFC 5103 reverse information elements
constexpr uint16_t kIePadding = 210;          // paddingOctets
constexpr uint32_t kNetflowV9ScopePen =
    0xffffffff;  // marks a v9 options scope field (RFC 3954 §6.1)

// The fields the kernel reads from a record (the rest only the host names). A template without
// variable-length fields has them at fixed offsets, found once when it is stored.
enum CoreField : uint8_t {
    kCoreSrcIpv4,
    kCoreDstIpv4,
    kCoreSrcIpv6,
    kCoreDstIpv6,
    kCoreSrcPort,
    kCoreDstPort,
    kCoreProtocol,
    kCoreTos,
    kCoreTcpFlags,
    kCoreDirection,
    kCoreBytes,         // octetDeltaCount
    kCorePackets,       // packetDeltaCount
    kCoreBytesTotal,    // octetTotalCount: used when there is no delta
    kCorePacketsTotal,  // packetTotalCount
    kCoreStartUptime,   // flowStartSysUpTime (ms)
    kCoreEndUptime,
    kCoreStartSeconds,
    kCoreEndSeconds,
    kCoreStartMilliseconds,
    kCoreEndMilliseconds,
    kCoreStartMicroseconds,  // NTP format
    kCoreEndMicroseconds,
    kCoreStartNanoseconds,
    kCoreEndNanoseconds,
    kCoreSamplingInterval,    // 34, or v9's 50
    kCoreSamplingAlgorithm,   // 35, or v9's 49
    kCorePacketInterval,      // IPFIX 305
    kCorePacketSpace,         // IPFIX 306
    kCoreSamplingSize,        // IPFIX 309: n of random n-out-of-N
    kCoreSamplingPopulation,  // IPFIX 310: N
    kCoreSystemInit,          // IPFIX 160 systemInitTimeMilliseconds: base of 21/22
    kCoreFieldCount
};

struct CoreLocation {
    uint16_t offset;
    uint8_t length;  // 0: absent
    uint8_t reserved;
};

struct TemplateField {
    uint16_t ie;      // information element id, enterprise bit cleared
    uint16_t length;  // bytes, or kVariableLength
    uint32_t pen;     // private enterprise number; 0 for IANA
};

struct FlowTemplate {
    uint8_t exporter[16];  // the exporter's address; its source port is not part of the key
    uint32_t domain;       // v9 source ID / IPFIX observation domain
    uint16_t template_id;
    uint16_t field_count;
    uint16_t scope_field_count;  // options templates: the first fields are the scope
    uint16_t min_record_bytes;   // fixed-length fields, plus 1 per variable-length field
    uint8_t in_use;
    uint8_t kind;  // RecordKind: v9 or IPFIX
    uint8_t options;
    uint8_t variable;  // has variable-length fields
    uint32_t generation;
    int64_t refreshed_ns;  // arrival of the last (re)definition: expiry counts from here
    int64_t used_ns;       // arrival of the last data decoded with it: eviction picks the oldest
    uint8_t reverse;       // has RFC 5103 reverse fields
    uint8_t reserved[7];
    CoreLocation core[kCoreFieldCount];  // fixed-length templates only
    TemplateField fields[kMaxTemplateFields];
};

// What an exporter's options data said, per observation domain.
struct ExporterOptions {
    uint8_t exporter[16];
    uint32_t domain;
    uint32_t interval;  // sampling: 1 in N; 0 when not said
    uint8_t algorithm;
    uint8_t in_use;
    uint8_t reserved[2];
    int64_t
        system_init_ms;  // IPFIX systemInitTimeMilliseconds (160): the sysUpTime base; 0 unknown
};

struct FlowParseState {
    FlowTemplate templates[kTemplateSlots];
    ExporterOptions exporter_options[kExporterSlots];
    uint32_t next_generation;
    uint32_t reserved;
};

// NetFlow v5's fixed 48-byte record as a template, with the IPFIX IEs Elastic's netflow input
// uses for it: one record walker and one namer serve v5, v9 and IPFIX.
constexpr uint32_t kNetflowV5Fields = 20;
constexpr TemplateField kNetflowV5Template[kNetflowV5Fields] = {
    {8, 4, 0},  {12, 4, 0},         {15, 4, 0}, {10, 2, 0}, {14, 2, 0},
    {2, 4, 0},  {1, 4, 0},          {22, 4, 0}, {21, 4, 0}, {7, 2, 0},
    {11, 2, 0}, {kIePadding, 1, 0}, {6, 1, 0},  {4, 1, 0},  {5, 1, 0},
    {16, 2, 0}, {17, 2, 0},         {9, 1, 0},  {13, 1, 0}, {kIePadding, 2, 0}};
constexpr uint32_t kNetflowV5RecordBytes = 48;
constexpr uint32_t kNetflowV5HeaderBytes = 24;
constexpr uint32_t kNetflowV9HeaderBytes = 20;
constexpr uint32_t kIpfixHeaderBytes = 16;

}  // namespace tapsift::wire
