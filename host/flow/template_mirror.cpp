#include "template_mirror.hpp"

#include <cstring>

#include "flow_parse/template_record.hpp"
#include "flow_parse/template_store.hpp"

namespace tapsift::flow {
namespace {

using wire::FlowItem;
using wire::FlowStoreChange;
using wire::FlowTemplate;

bool holds(const FlowTemplate &t, const FlowStoreChange &c) {
    return t.in_use && t.generation == c.generation && t.domain == c.domain &&
           t.template_id == c.template_id && std::memcmp(t.exporter, c.exporter, 16) == 0;
}

bool template_kind(uint8_t kind) {
    return kind == static_cast<uint8_t>(wire::RecordKind::kNetflowV9) ||
           kind == static_cast<uint8_t>(wire::RecordKind::kIpfix);
}

}  // namespace

TemplateMirror::TemplateMirror()
    : state_(std::make_unique<wire::FlowParseState>()),
      defined_(std::make_unique<Definition[]>(wire::kTemplateSlots)) {}

void TemplateMirror::mark_unknown(uint16_t slot) {
    state_->templates[slot].in_use = 0;
    state_->templates[slot].generation = 0;  // no record names generation 0
}

TemplateMirror::Applied TemplateMirror::apply(const FlowStoreChange &c,
                                              const wire::IngestRecordHeader &datagram,
                                              const uint8_t *payload) {
    const auto item = static_cast<FlowItem>(c.item);
    if (item == FlowItem::kExporterOptions || item == FlowItem::kExporterOptionsEvicted)
        return apply_options(c);
    if (!wire::is_store_change(c.item) || c.slot >= wire::kTemplateSlots) return Applied::kInvalid;
    if (!template_kind(c.kind) || hls_kernels::template_set(c.exporter, c.domain, c.template_id) !=
                                      c.slot / wire::kTemplateWays) {
        mark_unknown(c.slot);
        return Applied::kInvalid;
    }
    if (item == FlowItem::kTemplateLearned || item == FlowItem::kTemplateReplaced)
        return apply_definition(c, datagram, payload);
    FlowTemplate &have = state_->templates[c.slot];
    if (!holds(have, c)) {
        mark_unknown(c.slot);
        return Applied::kOutOfStep;
    }
    if (item == FlowItem::kTemplateRefreshed) {
        have.refreshed_ns = c.refreshed_ns;
    } else {  // withdrawn, evicted, expired: the fields stay, as in the engine
        have.in_use = 0;
    }
    return Applied::kApplied;
}

// Learned or replaced: the template record is parsed again, by the kernel's own parser.
TemplateMirror::Applied TemplateMirror::apply_definition(const FlowStoreChange &c,
                                                         const wire::IngestRecordHeader &datagram,
                                                         const uint8_t *payload) {
    FlowTemplate t;
    const uint32_t end = uint32_t{c.record.off} + c.record.len;
    const bool options = c.flags & wire::kFlowOptions;
    if (end > datagram.payload_len || c.kind != datagram.kind ||
        std::memcmp(c.exporter, datagram.src_addr, 16) != 0 || c.generation == 0) {
        mark_unknown(c.slot);
        return Applied::kInvalid;
    }
    const hls_kernels::TemplateRecordRead read = hls_kernels::read_template_record(
        payload, c.record.off, end, static_cast<wire::RecordKind>(c.kind), options, t);
    if (read.status != hls_kernels::TemplateRecordStatus::kDefinition ||
        read.bytes != c.record.len || t.template_id != c.template_id) {
        mark_unknown(c.slot);
        return Applied::kInvalid;
    }
    FlowTemplate &have = state_->templates[c.slot];
    // In step: a learned template goes to a free slot (or one an eviction just emptied), a
    // replacement to its key's slot, and every definition takes the next generation.
    const bool in_step =
        (c.item == static_cast<uint8_t>(FlowItem::kTemplateLearned)
             ? !have.in_use
             : have.in_use && have.domain == c.domain && have.template_id == c.template_id &&
                   std::memcmp(have.exporter, c.exporter, 16) == 0) &&
        c.generation == state_->next_generation + 1;
    std::memcpy(t.exporter, c.exporter, 16);
    t.domain = c.domain;
    t.refreshed_ns = c.refreshed_ns;
    t.used_ns = c.refreshed_ns;
    t.in_use = 1;
    t.generation = c.generation;
    have = t;
    defined_[c.slot] = {c.generation, c.refreshed_ns};
    state_->next_generation = c.generation;
    return in_step ? Applied::kApplied : Applied::kOutOfStep;
}

int64_t TemplateMirror::defined_ns(uint16_t slot, uint32_t generation) const {
    if (slot >= wire::kTemplateSlots) return 0;
    if (defined_[slot].generation == generation) return defined_[slot].at_ns;
    return state_->templates[slot].refreshed_ns;
}

TemplateMirror::Applied TemplateMirror::apply_options(const FlowStoreChange &c) {
    if (c.slot >= wire::kExporterSlots ||
        hls_kernels::exporter_slot(c.exporter, c.domain) != c.slot)
        return Applied::kInvalid;
    wire::ExporterOptions &have = state_->exporter_options[c.slot];
    const bool same_key =
        have.in_use && have.domain == c.domain && std::memcmp(have.exporter, c.exporter, 16) == 0;
    if (c.item == static_cast<uint8_t>(FlowItem::kExporterOptionsEvicted)) {
        have.in_use = 0;
        return same_key ? Applied::kApplied : Applied::kOutOfStep;
    }
    const bool in_step = !have.in_use || same_key;
    have = wire::ExporterOptions{};
    std::memcpy(have.exporter, c.exporter, 16);
    have.domain = c.domain;
    have.interval = c.sampling_interval;
    have.algorithm = c.sampling_algorithm;
    have.in_use = 1;
    have.system_init_ms = c.system_init_ms;
    return in_step ? Applied::kApplied : Applied::kOutOfStep;
}

void TemplateMirror::note_use(uint16_t slot, uint32_t generation, int64_t arrival_ns) {
    if (slot >= wire::kTemplateSlots) return;
    FlowTemplate &t = state_->templates[slot];
    if (t.generation == generation && arrival_ns > t.used_ns) t.used_ns = arrival_ns;
}

const FlowTemplate *TemplateMirror::find(uint16_t slot, uint32_t generation) const {
    if (slot >= wire::kTemplateSlots || generation == 0) return nullptr;
    const FlowTemplate &t = state_->templates[slot];
    return t.generation == generation ? &t : nullptr;
}

bool TemplateMirror::knows(const uint8_t exporter[16], uint32_t domain,
                           uint16_t template_id) const {
    return hls_kernels::template_find(*state_, exporter, domain, template_id) >= 0;
}

}  // namespace tapsift::flow
