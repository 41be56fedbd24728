// The host's template mirror (host/flow/template_mirror), kept only from flow_parse's change items,
// against the engine's real state: after every batch, in every field the host reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "flow/template_mirror.hpp"
#include "flow_corpus.hpp"
#include "flow_harness.hpp"
#include "flow_parse/template_store.hpp"
#include "wire/flow_store_change.hpp"

namespace tapsift::testing {
namespace {

using flow::TemplateMirror;
using wire::FlowDescriptor;
using wire::FlowItem;
using wire::FlowStoreChange;
using wire::FlowTemplate;

constexpr int64_t kSecond = 1'000'000'000;

std::array<uint8_t, 16> mapped(std::array<uint8_t, 4> v4) {
    return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, v4[0], v4[1], v4[2], v4[3]};
}
constexpr uint32_t kItemKinds = static_cast<uint32_t>(FlowItem::kExporterOptionsEvicted) + 1;

uint8_t item_code(FlowItem k) {
    return static_cast<uint8_t>(k);
}

FlowStoreChange change_of(const FlowDescriptor &d) {
    FlowStoreChange c;
    std::memcpy(&c, &d, sizeof c);
    return c;
}

// The first difference between the engine's state and the mirror in what the host reads, or "".
// Every slot's in-use mark; for every template in use: key, generation, kind, options, the field
// list and what is derived from it, refresh time (used_ns: the mirror's may lag, never lead);
// for every sampler entry in use: all of it.
std::string difference(const wire::FlowParseState &engine, const wire::FlowParseState &mirror) {
    std::ostringstream why;
    if (engine.next_generation != mirror.next_generation) {
        why << "next_generation " << engine.next_generation << " vs " << mirror.next_generation;
        return why.str();
    }
    for (uint32_t s = 0; s < wire::kTemplateSlots; ++s) {
        const FlowTemplate &e = engine.templates[s];
        const FlowTemplate &m = mirror.templates[s];
        if (e.in_use != m.in_use) {
            why << "slot " << s << ": in_use " << int(e.in_use) << " vs " << int(m.in_use)
                << " (engine template " << e.template_id << " gen " << e.generation
                << ", mirror template " << m.template_id << " gen " << m.generation << ")";
            return why.str();
        }
        if (!e.in_use) continue;
        const char *field = nullptr;
        if (std::memcmp(e.exporter, m.exporter, 16) != 0) field = "exporter";
        if (e.domain != m.domain) field = "domain";
        if (e.template_id != m.template_id) field = "template_id";
        if (e.generation != m.generation) field = "generation";
        if (e.kind != m.kind || e.options != m.options) field = "kind/options";
        if (e.field_count != m.field_count || e.scope_field_count != m.scope_field_count)
            field = "field counts";
        if (e.min_record_bytes != m.min_record_bytes || e.variable != m.variable ||
            e.reverse != m.reverse)
            field = "derived lengths";
        if (std::memcmp(e.core, m.core, sizeof e.core) != 0) field = "core offsets";
        if (std::memcmp(e.fields, m.fields, sizeof(wire::TemplateField) * e.field_count) != 0)
            field = "fields";
        if (e.refreshed_ns != m.refreshed_ns) field = "refreshed_ns";
        if (m.used_ns > e.used_ns) field = "used_ns ahead of the engine's";
        if (field != nullptr) {
            why << "slot " << s << " (template " << e.template_id << "): " << field;
            return why.str();
        }
    }
    for (uint32_t s = 0; s < wire::kExporterSlots; ++s) {
        const wire::ExporterOptions &e = engine.exporter_options[s];
        const wire::ExporterOptions &m = mirror.exporter_options[s];
        if (e.in_use != m.in_use || (e.in_use && std::memcmp(&e, &m, sizeof e) != 0)) {
            why << "exporter options slot " << s;
            return why.str();
        }
    }
    return "";
}

// One engine and the mirror the host keeps of it, fed batch by batch.
struct Mirrored {
    explicit Mirrored(int64_t timeout_ns = 5400 * kSecond,
                      uint32_t capacity = wire::kMaxFlowItemsPerBatch)
        : engine(timeout_ns, capacity) {}

    // Runs the batch and applies its items in stream order, checking at each record that the
    // mirror names it with its own template, and at each held set that the mirror does not know
    // the template either. Returns the items.
    std::vector<FlowDescriptor> run(const std::vector<Datagram> &batch) {
        const std::vector<FlowDescriptor> items = engine.run(batch);
        for (const FlowDescriptor &d : items) {
            kinds[d.item]++;
            const Datagram &dg = batch.at(d.record_index);
            const wire::IngestRecordHeader h = header_of(dg);
            if (wire::is_store_change(d.item)) {
                const TemplateMirror::Applied a = mirror.apply(change_of(d), h, dg.payload.data());
                EXPECT_EQ(a, TemplateMirror::Applied::kApplied) << "item kind " << int(d.item);
            } else if (d.item == item_code(FlowItem::kRecord) &&
                       d.template_slot != wire::kNoTemplateSlot) {
                const FlowTemplate *t = mirror.find(d.template_slot, d.template_generation);
                named.push_back(t == nullptr ? -1 : t->field_count);
                EXPECT_NE(t, nullptr) << "a record the mirror cannot name";
                if (t != nullptr) {
                    EXPECT_EQ(t->template_id, d.template_id);
                    EXPECT_EQ(t->domain, d.observation_domain);
                    EXPECT_EQ(std::memcmp(t->exporter, h.src_addr, 16), 0);
                }
                mirror.note_use(d.template_slot, d.template_generation,
                                static_cast<int64_t>(h.arrival_ns));
            } else if (d.item == item_code(FlowItem::kPendingSet)) {
                const uint16_t id = static_cast<uint16_t>((dg.payload[d.record.off] << 8) |
                                                          dg.payload[d.record.off + 1]);
                EXPECT_FALSE(mirror.knows(h.src_addr, d.observation_domain, id))
                    << "held, but the mirror knows template " << id;
            }
        }
        return items;
    }

    FlowEngine engine;
    TemplateMirror mirror;
    std::array<uint64_t, kItemKinds> kinds{};
    std::vector<int> named;  // per record with a template: the field count it was named with
};

// Feeds datagrams in batches of batch_size, checking the mirror after every batch.
void feed(Mirrored &m, const std::vector<Datagram> &stream, size_t batch_size,
          const std::string &what) {
    for (size_t at = 0; at < stream.size(); at += batch_size) {
        const std::vector<Datagram> batch(
            stream.begin() + static_cast<std::ptrdiff_t>(at),
            stream.begin() + static_cast<std::ptrdiff_t>(std::min(stream.size(), at + batch_size)));
        m.run(batch);
        const std::string diff = difference(*m.engine.state, m.mirror.state());
        ASSERT_EQ(diff, "") << what << ", batch size " << batch_size << ", batch starting at "
                            << at;
        if (::testing::Test::HasFailure()) return;
    }
}

// The corpus in arrival order, `passes` times over, `copies` exporters sending each datagram
// (the copy k exporter is the corpus one with k added to its third byte), arrivals step_ns apart.
const FlowCorpus &corpus() {
    static const FlowCorpus loaded = load_flow_corpus(TAPSIFT_TEST_CORPUS "/flows");
    return loaded;
}

std::vector<Datagram> corpus_stream(uint32_t passes, uint32_t copies, int64_t step_ns) {
    std::vector<Datagram> out;
    int64_t t = 1'700'000'000LL * kSecond;
    for (uint32_t p = 0; p < passes; ++p) {
        for (const Datagram &d : corpus().datagrams) {
            for (uint32_t k = 0; k < copies; ++k) {
                Datagram c = d;
                c.exporter[2] = static_cast<uint8_t>(c.exporter[2] + 10 * k);
                c.arrival_ns = t;
                t += step_ns;
                out.push_back(std::move(c));
            }
        }
    }
    return out;
}

// Synthetic exporters that make every kind of change: template IDs that share one set of the
// store (evictions), redefinitions, refreshes, IPFIX withdrawals, gaps past the template timeout,
// and sampling options from exporters that share one sampler table slot.
class Churn {
  public:
    explicit Churn(uint32_t seed) : rng_(seed) {
        // IPFIX exporter 198.51.100.1, domain 1: twelve template IDs in one set of eight ways.
        const uint8_t e1[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 1};
        const uint32_t set = hls_kernels::template_set(e1, 1, 256);
        for (uint32_t id = 256; ids_[0].size() < 12 && id < 65535; ++id) {
            if (hls_kernels::template_set(e1, 1, static_cast<uint16_t>(id)) == set)
                ids_[0].push_back(static_cast<uint16_t>(id));
        }
        for (uint16_t id = 256; id < 262; ++id) ids_[1].push_back(id);  // v9 198.51.100.2
        // Three IPFIX exporters (198.51.x.y) whose domain 1 shares a sampler table slot with
        // exporter 198.51.100.1's.
        const uint32_t slot = hls_kernels::exporter_slot(e1, 1);
        for (uint32_t xy = 0; option_exporters_.size() < 3 && xy < 0xffff; ++xy) {
            const std::array<uint8_t, 4> a = {198, 51, static_cast<uint8_t>(xy >> 8),
                                              static_cast<uint8_t>(xy)};
            if (a[2] == 100 && a[3] < 16) continue;
            if (hls_kernels::exporter_slot(mapped(a).data(), 1) == slot)
                option_exporters_.push_back(a);
        }
    }

    bool complete() const { return ids_[0].size() == 12 && option_exporters_.size() == 3; }

    std::vector<Datagram> stream(uint32_t datagrams) {
        std::vector<Datagram> out;
        int64_t t = 1'700'000'000LL * kSecond;
        for (uint32_t i = 0; i < datagrams; ++i) {
            t += static_cast<int64_t>(pick(4)) * kSecond;  // a template timeout is 30 s here
            out.push_back(next(t));
        }
        return out;
    }

  private:
    uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

    static const std::vector<Field> &fields(uint32_t which) {
        static const std::vector<std::vector<Field>> pool = {
            {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}},
            {{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 8}, {152, 8}, {153, 8}},
            {{8, 4}, {12, 4}, {6, 1}, {1, 4}, {2, 4}, {22, 4}, {21, 4}},
            {{8, 4}, {12, 4}, {82, wire::kVariableLength}, {1, 4}},  // IPFIX only
        };
        return pool[which];
    }

    static Bytes record_for(const std::vector<Field> &f, std::mt19937 &rng) {
        Bytes r;
        for (const Field &x : f) {
            uint32_t len = x.length;
            if (len == wire::kVariableLength) {
                len = rng() % 12;
                r.push_back(static_cast<uint8_t>(len));
            }
            for (uint32_t b = 0; b < len; ++b) r.push_back(static_cast<uint8_t>(rng()));
        }
        return r;
    }

    Datagram next(int64_t t) {
        const uint32_t group = pick(5);  // 0: IPFIX, 1: v9, 2-4: IPFIX options exporters
        const bool ipfix = group != 1;
        const std::array<uint8_t, 4> exporter =
            group < 2 ? std::array<uint8_t, 4>{198, 51, 100, static_cast<uint8_t>(1 + group)}
                      : option_exporters_[group - 2];
        const std::vector<uint16_t> &ids = ids_[group == 1 ? 1 : 0];
        std::vector<Bytes> sets;
        for (uint32_t s = 0; s < 1 + pick(3); ++s) sets.push_back(one_set(group, ipfix, ids));
        Datagram d = ipfix ? testing::ipfix(ipfix_message(1, 0, sets), exporter)
                           : testing::v9(v9_packet(1, 1000, 0, sets), exporter);
        d.arrival_ns = t;
        return d;
    }

    Bytes one_set(uint32_t group, bool ipfix, const std::vector<uint16_t> &ids) {
        const uint16_t id = ids[pick(static_cast<uint32_t>(ids.size()))];
        std::vector<Field> &sent = sent_[group][id];
        const uint32_t r = pick(100);
        if (r < 35) {  // (re)definition: half the time the one sent before (a refresh)
            if (sent.empty() || pick(2) == 0) sent = fields(pick(ipfix ? 4 : 3));
            return template_set(ipfix, id, sent);
        }
        if (r < 45 && ipfix) return cat({be(2, 2), be(8, 2), be(id, 2), be(0, 2)});  // withdraw
        if (r < 55) {
            return ipfix ? options_template_set(true, 300, {{149, 4}}, {{34, 4}, {35, 1}, {160, 8}})
                         : options_template_set(false, 300, {{1, 4}}, {{34, 4}, {35, 1}});
        }
        if (r < 70) {  // options data: a rate that changes now and then, or none
            static const uint32_t rates[] = {0, 10, 100, 100, 100, 1000};
            const uint32_t rate = rates[pick(6)];
            const uint64_t init = pick(3) == 0 ? 0 : 1'600'000'000'000ULL + pick(2);
            return data_set(300, ipfix
                                     ? cat({be(1, 4), be(rate, 4), be(1 + pick(2), 1), be(init, 8)})
                                     : cat({be(1, 4), be(rate, 4), be(1 + pick(2), 1)}));
        }
        const std::vector<Field> &f = sent.empty() ? fields(0) : sent;
        Bytes records;
        for (uint32_t n = 0; n < 1 + pick(3); ++n) records = cat({records, record_for(f, rng_)});
        return data_set(id, records);
    }

    std::mt19937 rng_;
    std::array<std::vector<uint16_t>, 2> ids_;
    std::vector<std::array<uint8_t, 4>> option_exporters_;
    std::map<uint16_t, std::vector<Field>> sent_[5];
};

const char *kind_name(uint32_t k) {
    static const char *names[kItemKinds] = {"record",   "pending set", "packet done",    "learned",
                                            "replaced", "refreshed",   "withdrawn",      "evicted",
                                            "expired",  "options",     "options evicted"};
    return names[k];
}

// The property: whatever the corpus and however it is cut into batches, the mirror the host
// keeps from the items equals the engine's state after every batch, every record is named with
// its own template at its point of the stream, and every kind of change happened on the way (so
// a kind the kernel failed to report could not go unnoticed).
TEST(TemplateMirror, EqualsTheEngineStateAfterEveryBatchOfTheCorpusAndChurn) {
    std::array<uint64_t, kItemKinds> seen{};
    const auto tally = [&seen](const Mirrored &m) {
        for (uint32_t k = 0; k < kItemKinds; ++k) seen[k] += m.kinds[k];
    };
    // The corpus twice over (templates learned, then refreshed and their data decoded): every
    // batch size, with the default template timeout and with one the corpus outlives.
    const std::vector<Datagram> twice = corpus_stream(2, 1, kSecond / 10);
    ASSERT_GT(twice.size(), 1000u);
    std::printf("  corpus: %zu datagrams from %u files (%u frames not NetFlow/IPFIX)\n",
                corpus().datagrams.size(), corpus().files, corpus().skipped_frames);
    for (const size_t size : {1, 2, 3, 5, 8, 13, 64, 200, 256}) {
        for (const int64_t timeout : {5400 * kSecond, 20 * kSecond}) {
            Mirrored m(timeout);
            feed(m, twice, size, "corpus, timeout " + std::to_string(timeout / kSecond) + " s");
            if (HasFatalFailure() || HasFailure()) return;
            tally(m);
        }
    }
    // Sixteen exporters sending the whole corpus: more templates than one set holds.
    const std::vector<Datagram> crowd = corpus_stream(1, 16, kSecond / 100);
    for (const size_t size : {7, 64, 256}) {
        Mirrored m;
        feed(m, crowd, size, "corpus from 16 exporters");
        if (HasFatalFailure() || HasFailure()) return;
        tally(m);
    }
    Churn churn(20261205);
    ASSERT_TRUE(churn.complete());
    const std::vector<Datagram> churned = churn.stream(6000);
    for (const size_t size : {1, 4, 32, 256}) {
        Mirrored m(30 * kSecond);
        feed(m, churned, size, "churn");
        if (HasFatalFailure() || HasFailure()) return;
        tally(m);
    }
    for (uint32_t k = 0; k < kItemKinds; ++k) {
        EXPECT_GT(seen[k], 0u) << "no " << kind_name(k) << " item in the whole run";
        std::printf("  %-16s %llu\n", kind_name(k), static_cast<unsigned long long>(seen[k]));
    }
}

// --- One test per kind of change ---------------------------------------------------------------

const std::vector<Field> kFlowFields = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}};
const std::vector<Field> kOtherFields = {{8, 4}, {12, 4}, {1, 8}};

Bytes flow_record() {
    return cat(
        {be(0xc0000201, 4), be(0xc6336401, 4), be(1000, 2), be(53, 2), be(17, 1), be(99, 4)});
}

std::vector<FlowDescriptor> of_kind(const std::vector<FlowDescriptor> &items, FlowItem k) {
    std::vector<FlowDescriptor> out;
    for (const FlowDescriptor &d : items) {
        if (d.item == item_code(k)) out.push_back(d);
    }
    return out;
}

// count template IDs from 256 up whose keys (exporter, domain 0) fall in one set of the store.
std::vector<uint16_t> one_set_of_ids(const uint8_t exporter[16], uint32_t count) {
    const uint32_t set = hls_kernels::template_set(exporter, 0, 256);
    std::vector<uint16_t> ids;
    for (uint32_t id = 256; ids.size() < count && id < 65536; ++id) {
        if (hls_kernels::template_set(exporter, 0, static_cast<uint16_t>(id)) == set)
            ids.push_back(static_cast<uint16_t>(id));
    }
    return ids;
}

TEST(TemplateMirror, ALearnedTemplateCarriesItsKeyAndItsRecordAndNamesWhatFollows) {
    Mirrored m;
    const Bytes tpl = template_set(true, 256, kFlowFields);
    const Datagram d =
        ipfix(ipfix_message(7, 0, {tpl, data_set(256, flow_record())}), {192, 0, 2, 9});
    const auto items = m.run({d});
    ASSERT_EQ(items.size(), 3u);
    ASSERT_EQ(items[0].item, item_code(FlowItem::kTemplateLearned));
    const FlowStoreChange c = change_of(items[0]);
    EXPECT_EQ(c.template_id, 256);
    EXPECT_EQ(c.domain, 7u);
    EXPECT_EQ(c.generation, 1u);
    EXPECT_EQ(c.kind, static_cast<uint8_t>(wire::RecordKind::kIpfix));
    EXPECT_EQ(c.exporter[15], 9);
    EXPECT_EQ(c.slot, hls_kernels::template_find(*m.engine.state, c.exporter, 7, 256));
    // The span is the template record: after the IPFIX header and the set header, without them.
    EXPECT_EQ(c.record.off, wire::kIpfixHeaderBytes + 4);
    EXPECT_EQ(c.record.len, tpl.size() - 4);
    EXPECT_EQ(items[1].item, item_code(FlowItem::kRecord));
    EXPECT_EQ(m.named, std::vector<int>{static_cast<int>(kFlowFields.size())});
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, AReplacementNamesOnlyTheRecordsAfterIt) {
    Mirrored m;
    m.run({ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}))});
    // One batch: data with the old definition, the new definition, data with it.
    const auto items =
        m.run({ipfix(ipfix_message(0, 0, {data_set(256, flow_record())})),
               ipfix(ipfix_message(0, 0,
                                   {template_set(true, 256, kOtherFields),
                                    data_set(256, cat({be(1, 4), be(2, 4), be(3, 8)}))}))});
    const auto replaced = of_kind(items, FlowItem::kTemplateReplaced);
    ASSERT_EQ(replaced.size(), 1u);
    EXPECT_EQ(change_of(replaced[0]).generation, 2u);
    EXPECT_EQ(m.named, (std::vector<int>{static_cast<int>(kFlowFields.size()),
                                         static_cast<int>(kOtherFields.size())}));
    EXPECT_EQ(m.engine.counters.templates_replaced, 1u);
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, ARefreshMovesTheRefreshTimeAndKeepsTheGeneration) {
    Mirrored m;
    Datagram first = ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}));
    m.run({first});
    Datagram again = first;
    again.arrival_ns += 10 * kSecond;
    const auto items = m.run({again, again});  // the same arrival twice: one change
    const auto refreshed = of_kind(items, FlowItem::kTemplateRefreshed);
    ASSERT_EQ(refreshed.size(), 1u);
    const FlowStoreChange c = change_of(refreshed[0]);
    EXPECT_EQ(c.generation, 1u);
    EXPECT_EQ(c.refreshed_ns, again.arrival_ns);
    EXPECT_EQ(m.mirror.find(c.slot, 1)->refreshed_ns, again.arrival_ns);
    EXPECT_EQ(m.engine.counters.templates_refreshed, 2u);
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, AWithdrawnTemplateIsForgottenAndItsDataHeld) {
    Mirrored m;
    m.run({ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}))});
    const auto items =
        m.run({ipfix(ipfix_message(0, 0, {cat({be(2, 2), be(8, 2), be(256, 2), be(0, 2)})})),
               ipfix(ipfix_message(0, 0, {data_set(256, flow_record())}))});
    ASSERT_EQ(of_kind(items, FlowItem::kTemplateWithdrawn).size(), 1u);
    ASSERT_EQ(of_kind(items, FlowItem::kPendingSet).size(), 1u);
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    EXPECT_FALSE(m.mirror.knows(exporter, 0, 256));
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, AnEvictionComesBeforeTheTemplateThatTakesTheSlot) {
    Mirrored m;
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const std::vector<uint16_t> ids = one_set_of_ids(exporter, wire::kTemplateWays + 1);
    std::vector<Datagram> batch;
    for (size_t i = 0; i < ids.size(); ++i) {
        Datagram d = ipfix(ipfix_message(0, 0, {template_set(true, ids[i], kFlowFields)}));
        d.arrival_ns += static_cast<int64_t>(i) * kSecond;
        batch.push_back(d);
    }
    const auto items = m.run(batch);
    const auto evicted = of_kind(items, FlowItem::kTemplateEvicted);
    ASSERT_EQ(evicted.size(), 1u);
    const FlowStoreChange gone = change_of(evicted[0]);
    EXPECT_EQ(gone.template_id, ids[0]);  // the least recently used
    // The next item puts the ninth template in the same slot.
    const auto at = std::find_if(items.begin(), items.end(), [](const FlowDescriptor &d) {
        return d.item == item_code(FlowItem::kTemplateEvicted);
    });
    const FlowStoreChange next = change_of(*(at + 1));
    EXPECT_EQ(next.item, item_code(FlowItem::kTemplateLearned));
    EXPECT_EQ(next.slot, gone.slot);
    EXPECT_EQ(next.template_id, ids.back());
    EXPECT_FALSE(m.mirror.knows(exporter, 0, ids[0]));
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, AnExpiredTemplateIsForgottenBeforeItsDataIsHeld) {
    Mirrored m(60 * kSecond);
    Datagram t = ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}));
    m.run({t});
    Datagram late = ipfix(ipfix_message(0, 0, {data_set(256, flow_record())}));
    late.arrival_ns = t.arrival_ns + 61 * kSecond;
    const auto items = m.run({late});
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].item, item_code(FlowItem::kTemplateExpired));
    EXPECT_EQ(change_of(items[0]).generation, 1u);
    EXPECT_EQ(items[1].item, item_code(FlowItem::kPendingSet));  // checked: the mirror forgot it
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, ExporterOptionsAreSentWhenTheyChangeAndWhenTheSlotChangesHands) {
    Mirrored m;
    const Bytes options_tpl =
        options_template_set(true, 300, {{149, 4}}, {{34, 4}, {35, 1}, {160, 8}});
    const auto options_data = [](uint32_t rate, uint64_t init) {
        return data_set(300, cat({be(1, 4), be(rate, 4), be(2, 1), be(init, 8)}));
    };
    auto items =
        m.run({ipfix(ipfix_message(1, 0, {options_tpl, options_data(100, 1600000000000)}))});
    auto set = of_kind(items, FlowItem::kExporterOptions);
    ASSERT_EQ(set.size(), 1u);
    FlowStoreChange c = change_of(set[0]);
    EXPECT_EQ(c.sampling_interval, 100u);
    EXPECT_EQ(c.sampling_algorithm, 2);
    EXPECT_EQ(c.system_init_ms, 1600000000000);
    EXPECT_EQ(m.mirror.state().exporter_options[c.slot].interval, 100u);
    // Said again: no change, no item. A new rate: one.
    items = m.run({ipfix(ipfix_message(1, 0, {options_data(100, 1600000000000)})),
                   ipfix(ipfix_message(1, 0, {options_data(1000, 1600000000000)}))});
    set = of_kind(items, FlowItem::kExporterOptions);
    ASSERT_EQ(set.size(), 1u);
    EXPECT_EQ(change_of(set[0]).sampling_interval, 1000u);
    EXPECT_EQ(m.engine.counters.sampling_updates, 3u);
    // Another exporter whose domain maps to the same slot takes it over.
    const uint32_t slot = hls_kernels::exporter_slot(mapped({192, 0, 2, 1}).data(), 1);
    std::array<uint8_t, 4> other = {198, 18, 0, 0};
    for (uint32_t xy = 0; xy < 0xffff; ++xy) {
        other[2] = static_cast<uint8_t>(xy >> 8);
        other[3] = static_cast<uint8_t>(xy);
        if (hls_kernels::exporter_slot(mapped(other).data(), 1) == slot) break;
    }
    ASSERT_EQ(hls_kernels::exporter_slot(mapped(other).data(), 1), slot);
    items = m.run({ipfix(ipfix_message(1, 0, {options_tpl, options_data(10, 0)}), other)});
    const auto evicted = of_kind(items, FlowItem::kExporterOptionsEvicted);
    ASSERT_EQ(evicted.size(), 1u);
    EXPECT_EQ(change_of(evicted[0]).exporter[15], 1);
    EXPECT_EQ(change_of(of_kind(items, FlowItem::kExporterOptions).at(0)).exporter[15], other[3]);
    EXPECT_EQ(m.engine.counters.exporter_option_evictions, 1u);
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

// --- Capacity and faults -----------------------------------------------------------------------

// A change whose item finds no room is not made, and counted: the engine and the mirror stay
// equal, and the template is learned at its next refresh.
TEST(TemplateMirror, AChangeWithNoRoomForItsItemIsNotMadeAndCounted) {
    // Room for 3 items: the datagram's kPacketDone is reserved, so two changes fit.
    Mirrored m(5400 * kSecond, 3);
    const Datagram d = ipfix(
        ipfix_message(0, 0,
                      {template_set(true, 256, kFlowFields), template_set(true, 257, kFlowFields),
                       template_set(true, 258, kFlowFields), data_set(256, flow_record())}));
    const auto items = m.run({d});
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(of_kind(items, FlowItem::kTemplateLearned).size(), 2u);
    EXPECT_EQ(m.engine.counters.changes_refused, 1u);
    EXPECT_EQ(m.engine.counters.templates_learned, 2u);
    EXPECT_EQ(items.back().items_lost, 1u);  // the record: no room left
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    EXPECT_LT(hls_kernels::template_find(*m.engine.state, exporter, 0, 258), 0);
    EXPECT_FALSE(m.mirror.knows(exporter, 0, 258));
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
    // The next refresh teaches it.
    Datagram again = ipfix(ipfix_message(0, 0, {template_set(true, 258, kFlowFields)}));
    again.arrival_ns += kSecond;
    m.run({again});
    EXPECT_TRUE(m.mirror.knows(exporter, 0, 258));
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

TEST(TemplateMirror, AnEvictionNeedsRoomForBothItems) {
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    const std::vector<uint16_t> ids = one_set_of_ids(exporter, wire::kTemplateWays + 1);
    Mirrored m(5400 * kSecond, 2);  // one item besides the kPacketDone
    for (size_t i = 0; i < wire::kTemplateWays; ++i) {
        Datagram d = ipfix(ipfix_message(0, 0, {template_set(true, ids[i], kFlowFields)}));
        d.arrival_ns += static_cast<int64_t>(i) * kSecond;
        m.run({d});
    }
    Datagram ninth = ipfix(ipfix_message(0, 0, {template_set(true, ids.back(), kFlowFields)}));
    ninth.arrival_ns += 100 * kSecond;
    const auto items = m.run({ninth});
    EXPECT_EQ(items.size(), 1u);  // only the kPacketDone
    EXPECT_EQ(m.engine.counters.changes_refused, 1u);
    EXPECT_EQ(m.engine.counters.templates_evicted, 0u);
    EXPECT_TRUE(m.mirror.knows(exporter, 0, ids[0]));
    EXPECT_EQ(difference(*m.engine.state, m.mirror.state()), "");
}

// Full batches all through the corpus and the churn: the mirror still equals the engine.
TEST(TemplateMirror, EqualsTheEngineStateWhenBatchesRunOutOfItems) {
    Churn churn(7);
    const std::vector<Datagram> churned = churn.stream(3000);
    // (batch size, item capacity): the kPacketDone items take batch-size of it.
    for (const auto &[size, capacity] :
         {std::pair<size_t, uint32_t>{32, 40}, {64, 70}, {256, 300}}) {
        Mirrored m(30 * kSecond, capacity);
        feed(m, churned, size, "churn, capacity " + std::to_string(capacity));
        if (HasFailure()) return;
        EXPECT_GT(m.engine.counters.changes_refused, 0u) << capacity;
        std::printf("  capacity %u: %llu changes refused, %llu records lost\n", capacity,
                    static_cast<unsigned long long>(m.engine.counters.changes_refused),
                    static_cast<unsigned long long>(m.engine.counters.items_output_full));
    }
    Mirrored m(5400 * kSecond, 300);
    feed(m, corpus_stream(2, 1, kSecond / 10), 256, "corpus, capacity 300");
    EXPECT_GT(m.engine.counters.changes_refused + m.engine.counters.items_output_full, 0u);
}

// A change item that never arrived (or arrived mangled): the next item about that slot is out of
// step, and the slot is marked unknown, so its records go unnamed (counted by the host), never
// misnamed.
TEST(TemplateMirror, AMissedChangeLeavesTheSlotUnknownNotMisnamed) {
    FlowEngine e;
    TemplateMirror mirror;
    const Datagram first = ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}));
    const auto learned = e.run({first});
    ASSERT_EQ(mirror.apply(change_of(learned[0]), header_of(first), first.payload.data()),
              TemplateMirror::Applied::kApplied);
    // The replacement's item is "lost"; the refresh after it is not.
    Datagram second = ipfix(ipfix_message(0, 0, {template_set(true, 256, kOtherFields)}));
    second.arrival_ns += kSecond;
    const auto replaced = e.run({second});
    ASSERT_EQ(replaced[0].item, item_code(FlowItem::kTemplateReplaced));
    Datagram third = second;
    third.arrival_ns += kSecond;
    const auto items = e.run({third, ipfix(ipfix_message(0, 0, {data_set(256, be(0, 16))}))});
    ASSERT_EQ(items[0].item, item_code(FlowItem::kTemplateRefreshed));
    EXPECT_EQ(mirror.apply(change_of(items[0]), header_of(third), third.payload.data()),
              TemplateMirror::Applied::kOutOfStep);
    const FlowDescriptor record = of_kind(items, FlowItem::kRecord).at(0);
    EXPECT_EQ(mirror.find(record.template_slot, record.template_generation), nullptr);
    const uint8_t exporter[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    EXPECT_FALSE(mirror.knows(exporter, 0, 256));
}

TEST(TemplateMirror, AnItemNoKernelCouldWriteIsRejected) {
    FlowEngine e;
    const Datagram d = ipfix(ipfix_message(0, 0, {template_set(true, 256, kFlowFields)}));
    const auto items = e.run({d});
    const FlowStoreChange good = change_of(items[0]);
    const wire::IngestRecordHeader h = header_of(d);
    const auto rejected = [&](FlowStoreChange c) {
        TemplateMirror m;
        return m.apply(c, h, d.payload.data()) == TemplateMirror::Applied::kInvalid &&
               m.find(good.slot, good.generation) == nullptr;
    };
    FlowStoreChange c = good;
    c.slot = static_cast<uint16_t>((good.slot + wire::kTemplateWays) % wire::kTemplateSlots);
    EXPECT_TRUE(rejected(c)) << "a slot outside the key's set";
    c = good;
    c.record.len = static_cast<uint16_t>(d.payload.size());
    EXPECT_TRUE(rejected(c)) << "a span past the datagram";
    c = good;
    c.record.len -= 4;
    EXPECT_TRUE(rejected(c)) << "a span that is not the whole template record";
    c = good;
    c.template_id = 257;
    c.slot =
        static_cast<uint16_t>(hls_kernels::template_set(c.exporter, 0, 257) * wire::kTemplateWays);
    EXPECT_TRUE(rejected(c)) << "a template ID its record does not have";
    c = good;
    c.exporter[15] ^= 1;
    c.slot =
        static_cast<uint16_t>(hls_kernels::template_set(c.exporter, 0, 256) * wire::kTemplateWays);
    EXPECT_TRUE(rejected(c)) << "another exporter than the datagram's";
    TemplateMirror m;
    EXPECT_EQ(m.apply(good, h, d.payload.data()), TemplateMirror::Applied::kApplied);
}

}  // namespace
}  // namespace tapsift::testing
