// The prefilter tables as one contiguous image: what the host uploads to the card's memory when
// the ruleset changes, and what the cpu backend reads in place. A header of counts and offsets,
// then each array of wire::PrefilterTables at a 64-byte-aligned offset from the image's start,
// so that the card sees them through one m_axi port and one buffer.
#pragma once

#include <cstdint>

#include "prefilter_tables.hpp"

namespace tapsift::wire {

constexpr uint32_t kPrefilterImageMagic = 0x54505449;  // "ITPT"
constexpr uint32_t kPrefilterImageVersion = 1;

// Byte offsets from the image's start; 0 = the array is empty (or, for ioc, no indicators).
struct PrefilterImageOffsets {
    uint64_t rules, strings, string_bytes, refs, prefixes, ranges, literal_string, gram_starts,
        gram_first, gram_count, gram_literals, always_syslog, always_flow, anchor_buckets,
        literal_rules, postings, ioc;
};

struct alignas(64) PrefilterImageHeader {
    uint32_t magic;
    uint32_t version;
    uint64_t image_bytes;  // the whole image, header included
    uint32_t rule_count;
    uint32_t string_count;
    uint32_t literal_count;
    uint32_t rule_words;
    uint8_t default_drop;
    uint8_t reserved[7];
    PrefilterImageOffsets at;
};

static_assert(sizeof(PrefilterImageHeader) % kBeatBytes == 0, "the header is whole beats");

// The image of a ruleset with no rules: every record forwarded.
inline PrefilterImageHeader empty_prefilter_image() {
    PrefilterImageHeader h{};
    h.magic = kPrefilterImageMagic;
    h.version = kPrefilterImageVersion;
    h.image_bytes = sizeof h;
    return h;
}

// A view of the image as the kernels' tables. The image must be 64-byte aligned.
// valid is false (and the tables decide nothing) when the header is not an image's.
inline PrefilterTables prefilter_tables_from_image(const uint8_t *image, bool &valid) {
    const auto &h = *reinterpret_cast<const PrefilterImageHeader *>(image);
    PrefilterTables t{};
    valid = h.magic == kPrefilterImageMagic && h.version == kPrefilterImageVersion;
    if (!valid) return t;
    const auto at = [image](uint64_t off) { return off ? image + off : nullptr; };
    t.rules = reinterpret_cast<const PrefilterRule *>(at(h.at.rules));
    t.rule_count = h.rule_count;
    t.default_drop = h.default_drop;
    t.strings = reinterpret_cast<const PrefilterString *>(at(h.at.strings));
    t.string_count = h.string_count;
    t.string_bytes = at(h.at.string_bytes);
    t.refs = reinterpret_cast<const uint32_t *>(at(h.at.refs));
    t.prefixes = reinterpret_cast<const PrefilterPrefix *>(at(h.at.prefixes));
    t.ranges = reinterpret_cast<const PrefilterRange *>(at(h.at.ranges));
    t.literal_string = reinterpret_cast<const uint32_t *>(at(h.at.literal_string));
    t.literal_count = h.literal_count;
    t.gram_starts = reinterpret_cast<const uint64_t *>(at(h.at.gram_starts));
    t.gram_first = reinterpret_cast<const uint16_t *>(at(h.at.gram_first));
    t.gram_count = reinterpret_cast<const uint16_t *>(at(h.at.gram_count));
    t.gram_literals = reinterpret_cast<const uint16_t *>(at(h.at.gram_literals));
    t.rule_words = h.rule_words;
    t.always_syslog = reinterpret_cast<const uint64_t *>(at(h.at.always_syslog));
    t.always_flow = reinterpret_cast<const uint64_t *>(at(h.at.always_flow));
    t.anchor_buckets = reinterpret_cast<const ListRef *>(at(h.at.anchor_buckets));
    t.literal_rules = reinterpret_cast<const ListRef *>(at(h.at.literal_rules));
    t.postings = reinterpret_cast<const uint32_t *>(at(h.at.postings));
    if (h.at.ioc) {
        t.ioc_header = reinterpret_cast<const IocFilterHeader *>(image + h.at.ioc);
        t.ioc_words =
            reinterpret_cast<const uint64_t *>(image + h.at.ioc + sizeof(IocFilterHeader));
    }
    return t;
}

}  // namespace tapsift::wire
