// The prefilter kernel's rule tables: every rule predicate except regex, CEF/LEEF fields and the
// exact threat-intel confirmation, compiled by the host (host/sift/ruleset.cpp) into fixed-size
// arrays. Each array is one m_axi port on the card; their sizes are capped by sift.kernel.* in
// the config, themselves capped by the maxima below (what the card's memories hold).
#pragma once

#include <cstdint>

#include "descriptor.hpp"
#include "ioc_filter.hpp"

namespace tapsift::wire {

constexpr uint32_t kMaxPrefilterRules = 16384;
constexpr uint32_t kMaxPrefilterStrings = 65536;  // exact hostnames/app-names/msgids + literals
constexpr uint32_t kMaxPrefilterStringBytes = 1u << 22;
constexpr uint32_t kMaxPrefilterLiterals = 8192;  // 'contains' literals: the found-bitmap's bits
constexpr uint32_t kMaxPrefilterLiteralBytes = 255;
constexpr uint32_t kMaxPrefilterPrefixes = 1u << 20;
constexpr uint32_t kMaxPrefilterRanges = 1u << 20;
constexpr uint32_t kMaxPrefilterRefs = 1u << 22;
constexpr uint32_t kMaxRefsPerList = 256;  // values in one rule's list (hostnames, sources, ...)

enum class PrefilterAction : uint8_t {
    kDrop = 0,     // verdict kFiltered
    kForward = 1,  // keep, sample or route: the host applies the rest
    kTag = 2,      // not terminal: recorded, evaluation goes on
};

// Predicates the kernel cannot decide: when the kernel ones pass, the record goes to the host
// (verdict kUndecided) with rule_id = this rule, where evaluation resumes.
enum PrefilterHostCheck : uint8_t {
    kHostRegex = 1u << 0,
    kHostSecFields = 1u << 1,  // CEF/LEEF extension or header fields
    kHostThreatIntel = 1u << 2,
};

// Where a rule looks for threat-intel hits.
enum IocPlace : uint8_t {
    kIocSource = 1u << 0,
    kIocDestination = 1u << 1,
    kIocMessage = 1u << 2,  // syslog: addresses written in the message
};

enum PrefilterKind : uint8_t { kKindSyslog = 1u << 0, kKindFlow = 1u << 1 };

// A rule's list: refs[first .. first+count). count 0 = no such predicate (any value matches).
struct ListRef {
    uint32_t first;
    uint32_t count;
};

struct PrefilterRule {
    uint8_t kinds;          // PrefilterKind bits
    uint8_t action;         // PrefilterAction
    uint8_t host_checks;    // PrefilterHostCheck bits
    uint8_t ioc_places;     // IocPlace bits; 0 = no threat-intel predicate
    uint8_t severity_mask;  // bit s: severity s matches; 0xff = any
    uint8_t reserved0[3];
    uint32_t facility_mask;  // bit f: facility f matches; all 24 set = any
    uint32_t reserved1;
    ListRef hostnames;  // strings, exact
    ListRef appnames;
    ListRef msgids;
    ListRef literals;  // literal ids, any of them in the message
    ListRef sources;   // prefixes
    ListRef destinations;
    ListRef exporters;
    ListRef src_ports;  // ranges
    ListRef dst_ports;
    ListRef protocols;
    uint64_t bytes_min, bytes_max;  // flows; [0, UINT64_MAX] = any
    uint64_t packets_min, packets_max;
};

static_assert(sizeof(PrefilterRule) == 128, "a rule is two beats");

struct PrefilterString {
    uint32_t off;  // into string_bytes
    uint32_t len;
};

struct PrefilterPrefix {
    uint8_t addr[16];  // IPv4-mapped for IPv4, host bits zero
    uint8_t len;       // 0..128 over the 16 bytes (an IPv4 /L is stored as /96+L)
    uint8_t reserved[3];
};

struct PrefilterRange {
    uint32_t lo;
    uint32_t hi;
};

// The literal index: literals of 2-3 bytes grouped by their first two bytes (buckets
// 0..kGramBuckets-1), longer ones by a hash of their first four (kGramBuckets..2*kGramBuckets-1),
// so a message position probes only literals that share its next two or four bytes.
// gram_first/gram_count index gram_literals, which holds literal ids; literal id i is
// strings[literal_string[i]].
constexpr uint32_t kGramBuckets = 65536;

// The candidate index: a record is checked only against the rules that could match it. Each rule
// is filed under one anchor, a predicate it cannot match without: a hostname, app-name or msgid
// it names, one of its literals, the first one or two bytes of its CIDRs, or a port;
// rules with none (severity alone, say) are "always" candidates of their kinds. Per record, the
// candidates are the always-bitmap OR'ed with the postings of the record's anchor keys, walked
// in rule order, so first-match semantics are those of the plain list.
constexpr uint32_t kAnchorBuckets = 4096;  // hashed anchor keys; a collision only adds candidates

enum AnchorField : uint32_t {
    kAnchorHostname = 1,
    kAnchorAppname = 2,
    kAnchorMsgid = 3,
    kAnchorDstPort = 4,
    kAnchorSrcPort = 5,
    kAnchorSource = 6,  // first byte of the address (of the IPv4 part when IPv4)
    kAnchorDestination = 7,
    kAnchorExporter = 8,
    kAnchorTwoBytes = 0x100,  // with an address field: the first two bytes (CIDRs of /16 or longer)
};

struct PrefilterTables {
    const PrefilterRule *rules;
    uint32_t rule_count;
    uint8_t default_drop;  // no rule decides: drop (sift.default_action) instead of forward
    const PrefilterString *strings;
    uint32_t string_count;
    const uint8_t *string_bytes;
    const uint32_t *refs;
    const PrefilterPrefix *prefixes;
    const PrefilterRange *ranges;
    const uint32_t *literal_string;
    uint32_t literal_count;
    const uint64_t *gram_starts;  // kGramBuckets bits: some literal starts with these two bytes
    const uint16_t *gram_first;   // 2 * kGramBuckets
    const uint16_t *gram_count;   // 2 * kGramBuckets
    const uint16_t *gram_literals;
    uint32_t rule_words;            // (rule_count + 63) / 64
    const uint64_t *always_syslog;  // rule_words each
    const uint64_t *always_flow;
    const ListRef *anchor_buckets;      // kAnchorBuckets, into postings
    const ListRef *literal_rules;       // per literal id, into postings
    const uint32_t *postings;           // rule indexes
    const IocFilterHeader *ioc_header;  // nullptr: no indicators loaded
    const uint64_t *ioc_words;
};

}  // namespace tapsift::wire
