// libFuzzer: up to four datagrams (each: kind byte, 2-byte length, bytes) ► one ingest batch ►
// flow_parse with a fresh template store ► event assembly for every record, named from the host's
// template mirror, kept from the change items. Items must stay inside their datagram, counts must
// add up, every change item must apply, and the mirror must end equal to the engine's state.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "event/flow_event.hpp"
#include "flow/template_mirror.hpp"
#include "flow_parse/flow_parse.hpp"
#include "ingest_batch_builder.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/flow_store_change.hpp"

using namespace tapsift;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dataplane::IngestBatchBuilder batch(4, dataplane::Engine::kFlow);
    static auto items = std::make_unique<hls_kernels::beat_t[]>(
        size_t{wire::kMaxFlowItemsPerBatch} * wire::kDescriptorBeats);
    static auto state = std::make_unique<wire::FlowParseState>();
    static flow::TemplateMirror mirror;
    static std::string json;
    batch.reset();
    // A fresh store for every input: only the in-use marks need clearing (a memset of all 4 MiB
    // would cost more than the run).
    for (wire::FlowParseState *s : {state.get(), &mirror.state_before_first_batch()}) {
        for (auto &t : s->templates) t.in_use = 0;
        for (auto &o : s->exporter_options) o.in_use = 0;
        s->next_generation = 0;
    }
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const uint8_t *payloads[4] = {};
    size_t at = 0;
    uint32_t datagrams = 0;
    while (datagrams < 4 && at + 3 <= size) {
        const auto kind = static_cast<wire::RecordKind>(2 + data[at] % 3);
        const size_t len = std::min<size_t>((data[at + 1] << 8) | data[at + 2], size - at - 3);
        const dataplane::RecordMeta meta{
            addr, addr, 40000, 2055, kind, 0, 0, 0, 1700000000ULL * 1000000000ULL, datagrams + 1u};
        if (!batch.add(meta, data + at + 3, static_cast<uint32_t>(len))) break;
        payloads[datagrams++] = data + at + 3;
        at += 3 + len;
    }
    if (datagrams == 0) return 0;
    hls_kernels::FlowParseCounters ctr{};
    const uint32_t n = hls_kernels::flow_parse(
        reinterpret_cast<const hls_kernels::beat_t *>(batch.data()), items.get(),
        wire::kMaxFlowItemsPerBatch, hls_kernels::FlowParseConfig{5400LL * 1000000000}, state.get(),
        &ctr);
    if (n > wire::kMaxFlowItemsPerBatch || ctr.packets != datagrams) std::abort();
    uint32_t done = 0;
    uint64_t records = 0;
    const uint8_t *rec_at = batch.data() + wire::kBeatBytes;
    wire::IngestRecordHeader headers[4];
    for (uint32_t i = 0; i < datagrams; ++i) {
        std::memcpy(&headers[i], rec_at, sizeof headers[i]);
        rec_at += wire::kBeatBytes * (1 + wire::payload_beats(headers[i].payload_len));
    }
    for (uint32_t k = 0; k < n; ++k) {
        wire::FlowDescriptor d;
        std::memcpy(&d, reinterpret_cast<const uint8_t *>(items.get()) + k * wire::kDescriptorBytes,
                    sizeof d);
        if (d.record_index >= datagrams) std::abort();
        const wire::IngestRecordHeader &h = headers[d.record_index];
        if (d.item == static_cast<uint8_t>(wire::FlowItem::kPacketDone)) {
            done++;
            continue;
        }
        if (uint32_t{d.record.off} + d.record.len > h.payload_len) std::abort();
        if (wire::is_store_change(d.item)) {
            wire::FlowStoreChange c;
            std::memcpy(&c, &d, sizeof c);
            if (mirror.apply(c, h, payloads[d.record_index]) !=
                flow::TemplateMirror::Applied::kApplied)
                std::abort();
            continue;
        }
        if (d.item != static_cast<uint8_t>(wire::FlowItem::kRecord)) continue;
        records++;
        const wire::TemplateField *fields = wire::kNetflowV5Template;
        uint32_t count = wire::kNetflowV5Fields;
        if (d.template_slot != wire::kNoTemplateSlot) {
            const wire::FlowTemplate *t = mirror.find(d.template_slot, d.template_generation);
            if (t == nullptr) std::abort();  // the mirror must name every record
            fields = t->fields;
            count = t->field_count;
        }
        const event::FlowRecordView view{h, payloads[d.record_index], d, fields, count, 0, false};
        event::assemble_flow_event(view, "192.0.2.1", event::FlowEventContext{}, json);
        if (json.empty() || json.front() != '{' || json.back() != '}') std::abort();
    }
    if (done != datagrams || records != ctr.records) std::abort();
    for (uint32_t i = 0; i < wire::kTemplateSlots; ++i) {
        const wire::FlowTemplate &e = state->templates[i];
        const wire::FlowTemplate &m = mirror.state().templates[i];
        if (e.in_use != m.in_use) std::abort();
        if (e.in_use && (e.generation != m.generation || e.field_count != m.field_count ||
                         std::memcmp(e.fields, m.fields, sizeof e.fields) != 0 ||
                         std::memcmp(e.core, m.core, sizeof e.core) != 0))
            std::abort();
    }
    return 0;
}
