#include "sift_harness.hpp"

#include <cstring>
#include <stdexcept>

#include "ingest_batch_builder.hpp"
#include "event/syslog_event.hpp"
#include "prefilter/prefilter.hpp"
#include "sift/ioc_set.hpp"
#include "wire/flow_descriptor.hpp"

namespace tapsift::testing {
namespace {

std::array<uint8_t, 16> address(const std::string &text) {
    std::array<uint8_t, 16> a{};
    if (!sift::parse_address(text, a)) throw std::invalid_argument("not an address: " + text);
    return a;
}

const hls_kernels::beat_t *beats(const uint8_t *p) {
    return reinterpret_cast<const hls_kernels::beat_t *>(p);
}

}  // namespace

SiftHarness::SiftHarness(const std::string &config_yaml)
    : cfg_(config::load_config_string(config_yaml, "test.yaml")),
      source_(std::make_unique<sift::RulesetSource>(sift::Ruleset::load(cfg_))),
      sifter_(std::make_unique<sift::Sifter>(*source_)) {
    std::string why;
    backend_ = drivers::open_cpu_backend(drivers::BackendConfig{}, why);
    const sift::Ruleset &rules = sifter_->ruleset();
    backend_->load_tables(rules.image(), rules.image_bytes());
}

SiftOutcome SiftHarness::outcome(uint8_t kernel_verdict, uint16_t kernel_rule,
                                 const sift::SiftDecision &d) const {
    const auto &rules = sifter_->ruleset().rules();
    SiftOutcome o{kernel_verdict,
                  kernel_rule < rules.size() ? rules[kernel_rule].id : "",
                  d.drop,
                  d.rule < rules.size() ? rules[d.rule].id : "",
                  d.topic ? *d.topic : "",
                  {},
                  {}};
    for (const auto t : d.annotations.tags) o.tags.emplace_back(t);
    for (const auto &m : d.annotations.threats) {
        o.threats.push_back(std::string(m.atomic) + " " + std::string(m.field) + " " +
                            std::string(m.indicator));
    }
    return o;
}

// The reference: every rule in order, each checked whole (threat intel confirmed exactly, not
// through the filter), no candidate index.
SiftOutcome SiftHarness::linear_outcome(sift::HostRecord &r) {
    r.features.ioc_maybe = wire::kIocSource | wire::kIocDestination | wire::kIocMessage;
    sifter_->start_record();
    sifter_->confirm_threats(r, r.features.ioc_maybe);
    const auto &rules = sifter_->ruleset().rules();
    SiftOutcome o{0, "", false, "", "", {}, {}};
    for (uint32_t i = 0; i < rules.size(); ++i) {
        if (sifter_->check_rule(i, r) != nullptr) continue;
        for (const std::string &tag : rules[i].tags) o.tags.push_back(tag);
        if (rules[i].action == sift::Action::kTag) continue;
        o.rule = rules[i].id;
        o.drop = rules[i].action == sift::Action::kDrop;
        break;
    }
    return o;
}

SiftOutcome SiftHarness::syslog(const std::string &message, const std::string &source,
                                bool linear) {
    const auto src = address(source);
    const auto dst = address("192.0.2.254");
    dataplane::IngestBatchBuilder batch(1);
    const dataplane::RecordMeta meta{src.data(),
                                     dst.data(),
                                     40000,
                                     514,
                                     wire::RecordKind::kSyslog,
                                     0,
                                     0,
                                     0,
                                     1793491200000000000ull,
                                     1};
    if (!batch.add(meta, reinterpret_cast<const uint8_t *>(message.data()),
                   static_cast<uint32_t>(message.size())))
        throw std::logic_error("message too long for one record");
    drivers::BatchResult result;
    if (!backend_->run_one(drivers::BatchKind::kSyslog, batch.data(), batch.size_bytes(), result))
        throw std::logic_error("the cpu backend failed a batch");
    wire::Descriptor d;
    std::memcpy(&d, result.output, sizeof d);
    wire::IngestRecordHeader rec;
    std::memcpy(&rec, batch.data() + wire::kBeatBytes, sizeof rec);
    const uint8_t *payload = batch.data() + 2 * wire::kBeatBytes;
    const bool is_sec = event::parse_cef_leef(event::cef_leef_text(payload, d), sec_);
    if (linear) {
        sift::HostRecord r;
        sift::fill_syslog_record(r, sifter_->ruleset().tables(), rec, payload, d,
                                 is_sec ? &sec_ : nullptr);
        return linear_outcome(r);
    }
    return outcome(d.verdict, d.rule_id,
                   sifter_->decide_syslog(rec, payload, d, is_sec ? &sec_ : nullptr));
}

SiftOutcome SiftHarness::flow(const FlowSpec &spec, bool linear) {
    const auto exporter = address(spec.exporter);
    dataplane::IngestBatchBuilder batch(1, dataplane::Engine::kFlow);
    const uint8_t payload[4] = {0, 10, 0, 0};
    const dataplane::RecordMeta meta{exporter.data(),
                                     exporter.data(),
                                     2055,
                                     2055,
                                     wire::RecordKind::kIpfix,
                                     0,
                                     0,
                                     0,
                                     1793491200000000000ull,
                                     1};
    batch.add(meta, payload, sizeof payload);
    wire::FlowDescriptor item{};
    item.item = static_cast<uint8_t>(wire::FlowItem::kRecord);
    item.kind = static_cast<uint8_t>(wire::RecordKind::kIpfix);
    std::memcpy(item.src_addr, address(spec.src).data(), 16);
    std::memcpy(item.dst_addr, address(spec.dst).data(), 16);
    item.src_port = spec.src_port;
    item.dst_port = spec.dst_port;
    item.protocol = spec.protocol;
    item.bytes = spec.bytes;
    item.packets = spec.packets;
    alignas(64) uint8_t items[wire::kDescriptorBytes];
    std::memcpy(items, &item, sizeof item);
    hls_kernels::PrefilterCounters counters{};
    hls_kernels::prefilter_flows(beats(batch.data()),
                                 reinterpret_cast<hls_kernels::beat_t *>(items), 1,
                                 sifter_->ruleset().tables(), &counters);
    std::memcpy(&item, items, sizeof item);
    if (linear) {
        sift::HostRecord r;
        hls_kernels::flow_features(item, exporter.data(), r.features);
        return linear_outcome(r);
    }
    return outcome(item.verdict, item.rule_id, sifter_->decide_flow(item, exporter.data()));
}

}  // namespace tapsift::testing
