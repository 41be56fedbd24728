// prefilter: the rule stage that runs beside the parse kernels (Pigasus-style: cheap, wide
// matching at line rate; only what needs a regex, CEF/LEEF fields or an exact threat-intel
// confirmation goes to the host). It reads the parse kernel's descriptors (or flow items) and the
// rule tables (wire/prefilter_tables.hpp), and rewrites each one's verdict, rule_id and sift.
#pragma once

#include <cstdint>

#include "tapsift_hls/hls_compat.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/prefilter_tables.hpp"
#include "wire/sflow_sample.hpp"

namespace tapsift::hls_kernels {

struct PrefilterCounters {
    uint64_t records;         // descriptors and flow records looked at
    uint64_t dropped;         // verdict kFiltered
    uint64_t undecided;       // left to the host
    uint64_t rule_checks;     // rules whose predicates were evaluated
    uint64_t literal_probes;  // candidate literals compared at some message offset
};

// What the rules look at in one record.
struct RecordFeatures {
    uint8_t kind;  // PrefilterKind
    uint8_t facility;
    uint8_t severity;
    const uint8_t *payload;  // syslog: the record's payload; spans below point into it
    wire::Span hostname, appname, msgid, message;
    uint8_t src[16], dst[16], exporter[16];  // IPv4-mapped
    uint16_t src_port, dst_port;
    uint8_t protocol;
    uint64_t bytes, packets;
    uint8_t ioc_maybe;  // IocPlace bits the filter could not rule out
    uint64_t literals_found[wire::kMaxPrefilterLiterals / 64];
};

// The first predicate of a rule that fails, in the order they are checked (explain prints it).
enum class PredicateFail : uint8_t {
    kNone = 0,
    kKind,
    kFacility,
    kSeverity,
    kHostname,
    kAppname,
    kMsgid,
    kContains,
    kSource,
    kDestination,
    kExporter,
    kSrcPort,
    kDstPort,
    kProtocol,
    kBytes,
    kPackets,
    kThreatIntel,  // the filter rules out every place the rule looks at
};

const char *predicate_name(PredicateFail p);

// The kernel-decidable predicates of one rule.
PredicateFail rule_kernel_check(const wire::PrefilterTables &t, const wire::PrefilterRule &rule,
                                const RecordFeatures &f);

// The literal index bucket of the four bytes at p (literals of 4 bytes or more).
inline uint32_t literal_gram4(const uint8_t *p) {
    const uint32_t v =
        p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
    return wire::kGramBuckets + ((v * 2654435761u) >> 16);
}

// Sets literals_found for the literals that occur in payload[message]; returns probes made.
uint64_t find_literals(const wire::PrefilterTables &t, const uint8_t *payload, wire::Span message,
                       uint64_t *literals_found);

// The rules' view of a syslog record (its descriptor, payload and addresses), with the literals
// found in its message; returns the literal probes made.
uint64_t syslog_features(const wire::PrefilterTables &t, const wire::Descriptor &d,
                         const uint8_t *payload, const uint8_t src[16], const uint8_t dst[16],
                         RecordFeatures &f);
// ... of a flow record; exporter is its datagram's source address.
void flow_features(const wire::FlowDescriptor &d, const uint8_t exporter[16], RecordFeatures &f);

// ... of an sFlow sample, as a flow record: the sampled packet's addresses, ports and protocol,
// its frame length as bytes and 1 packet (unscaled, as a flow record's counts), the agent as the
// exporter.
void sflow_features(const wire::SflowSample &s, RecordFeatures &f);

// Sets ioc_maybe from the filter: source, destination and (syslog) the message's addresses.
void find_ioc_candidates(const wire::PrefilterTables &t, RecordFeatures &f);

// The hash that files an anchor value (FNV-1a over its bytes, field first) in anchor_buckets.
uint32_t anchor_bucket(uint32_t field, const uint8_t *bytes, uint32_t len);
// The first byte of an address or CIDR as anchors see it: of the IPv4 part when IPv4-mapped.
const uint8_t *anchor_bytes(const uint8_t addr16[16]);

// Sets bit r of candidates (rule_words words) for every rule r that could match f.
void collect_candidates(const wire::PrefilterTables &t, const RecordFeatures &f,
                        uint64_t *candidates);

// Rules in order from the first: the verdict and rule_id (kNoRule and kForward when none
// decides), with matched tag rules appended to sift.
void evaluate_rules(const wire::PrefilterTables &t, const RecordFeatures &f, uint8_t &verdict,
                    uint16_t &rule_id, wire::SiftResult &sift, PrefilterCounters &ctr);

// Syslog: one descriptor per ingest record (what syslog_parse wrote), rewritten in place.
// Malformed descriptors are left as they are.
void prefilter_syslog(const beat_t *ingest, beat_t *descriptors, const wire::PrefilterTables &t,
                      PrefilterCounters *counters);

// Flows: the items flow_parse wrote for this ingest batch; kRecord items are rewritten in place.
void prefilter_flows(const beat_t *ingest, beat_t *items, uint32_t item_count,
                     const wire::PrefilterTables &t, PrefilterCounters *counters);

// sFlow: the items sflow_parse wrote for this ingest batch; sample items are rewritten in place.
void prefilter_sflow(beat_t *items, uint32_t item_count, const wire::PrefilterTables &t,
                     PrefilterCounters *counters);

}  // namespace tapsift::hls_kernels
