// tapsift explain: one syslog line through the same stages as a packet (the offload backend's
// syslog_parse and prefilter, then the host stage), printing which rule decides and why each
// earlier one does not.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "event/cef_leef.hpp"
#include "event/syslog_event.hpp"
#include "ingest_batch_builder.hpp"
#include "metrics/wall_clock.hpp"
#include "offload_backend.hpp"
#include "pipeline/gateway.hpp"
#include "sift/ioc_set.hpp"
#include "sift/sifter.hpp"

namespace tapsift::cli {
namespace {

std::string_view span(const uint8_t *payload, wire::Span s) {
    return {reinterpret_cast<const char *>(payload) + s.off, s.len};
}

const char *kernel_verdict(uint8_t v) {
    switch (static_cast<wire::Verdict>(v)) {
        case wire::Verdict::kForward:
            return "forward";
        case wire::Verdict::kFiltered:
            return "drop";
        case wire::Verdict::kMalformed:
            return "malformed";
        case wire::Verdict::kUndecided:
            return "undecided (host stage)";
    }
    return "?";
}

}  // namespace

int cmd_explain(const ExplainArgs &args) {
    const config::Config cfg = config::load_config_file(args.config);
    sift::RulesetSource source(sift::Ruleset::load(cfg));
    sift::Sifter sifter(source);
    const sift::Ruleset &rules = sifter.ruleset();

    std::array<uint8_t, 16> src{}, dst{};
    if (!sift::parse_address(args.source, src) || !sift::parse_address(args.destination, dst))
        throw std::runtime_error("--source and --destination must be IP addresses");
    dataplane::IngestBatchBuilder batch(1);
    const dataplane::RecordMeta meta{src.data(),
                                     dst.data(),
                                     514,
                                     514,
                                     wire::RecordKind::kSyslog,
                                     0,
                                     0,
                                     0,
                                     static_cast<uint64_t>(wall_clock_ns()),
                                     1};
    if (!batch.add(meta, reinterpret_cast<const uint8_t *>(args.line.data()),
                   static_cast<uint32_t>(args.line.size())))
        throw std::runtime_error("the line is longer than one record can be");
    // The configured backend, as a packet would go: parse and prefilter, offloaded.
    std::string backend_why;
    const auto backend = drivers::open_backend(pipeline::backend_config(cfg), backend_why);
    if (!backend)
        throw std::runtime_error("offload backend " + cfg.offload.backend + ": " + backend_why);
    drivers::BatchResult result;
    if (!backend->load_tables(rules.image(), rules.image_bytes()) ||
        !backend->run_one(drivers::BatchKind::kSyslog, batch.data(), batch.size_bytes(), result) ||
        result.outputs != 1)
        throw std::runtime_error(std::string("offload backend ") + backend->name() +
                                 ": the device failed the batch");
    wire::Descriptor d;
    std::memcpy(&d, result.output, sizeof d);
    wire::IngestRecordHeader rec;
    std::memcpy(&rec, result.ingest + wire::kBeatBytes, sizeof rec);
    const uint8_t *payload = result.ingest + 2 * wire::kBeatBytes;

    fmt::print("parsed (from {}{} to {}{})\n", args.source,
               args.source_set ? "" : " [default --source]", args.destination,
               args.destination_set ? "" : " [default --destination]");
    if (d.verdict == static_cast<uint8_t>(wire::Verdict::kMalformed)) {
        fmt::print("  malformed ({}): no event, no rule applies\n",
                   d.malformed_reason == static_cast<uint8_t>(wire::SyslogMalformed::kEmpty)
                       ? "syslog_empty"
                       : "syslog_bad_pri");
        return 0;
    }
    fmt::print("  facility {} ({})  severity {} ({})\n", d.priority >> 3,
               event::facility_name(d.priority >> 3), d.priority & 7,
               event::severity_name(d.priority & 7));
    fmt::print("  hostname '{}'  app_name '{}'  msgid '{}'\n", span(payload, d.hostname),
               span(payload, d.appname), span(payload, d.msgid));
    fmt::print("  message '{}'\n", span(payload, d.message));
    event::SecEvent sec;
    std::string why;
    const bool is_sec = event::parse_cef_leef(event::cef_leef_text(payload, d), sec, &why);
    if (is_sec) {
        fmt::print("  {} {}|{}|{} with {} extension(s)\n",
                   sec.format == event::SecFormat::kCef ? "CEF" : "LEEF", sec.vendor, sec.product,
                   sec.event_class_id, sec.extensions.size());
    } else if (!why.empty()) {
        fmt::print("  not CEF/LEEF: {}\n", why);
    }

    fmt::print("\nkernel stage: {}", kernel_verdict(d.verdict));
    if (d.rule_id != wire::kNoRule) fmt::print(" at rule '{}'", rules.rules()[d.rule_id].id);
    fmt::print("\n\nrules, in order ({})\n", rules.summary());
    sift::HostRecord r;
    sift::fill_syslog_record(r, rules.tables(), rec, payload, d, is_sec ? &sec : nullptr);
    sifter.start_record();
    sifter.confirm_threats(r, wire::kIocSource | wire::kIocDestination | wire::kIocMessage);
    bool decided = false;
    for (uint32_t i = 0; i < rules.rules().size(); ++i) {
        const sift::Rule &rule = rules.rules()[i];
        const char *fails = sifter.check_rule(i, r);
        const std::string where = fmt::format("{}:{}", rule.file, rule.line);
        if (fails) {
            fmt::print("  {:<28} {:<7} no: {} does not match   ({})\n", rule.id,
                       sift::action_name(rule.action), fails, where);
        } else if (decided) {
            fmt::print("  {:<28} {:<7} would match, but an earlier rule decided   ({})\n", rule.id,
                       sift::action_name(rule.action), where);
        } else {
            fmt::print("  {:<28} {:<7} MATCHES   ({})\n", rule.id, sift::action_name(rule.action),
                       where);
            decided = rule.action != sift::Action::kTag;
        }
    }
    const sift::SiftDecision &decision =
        sifter.decide_syslog(rec, payload, d, is_sec ? &sec : nullptr);
    fmt::print("\ndecision: ");
    if (decision.rule == wire::kNoRule) {
        const char *action = decision.drop ? "drop" : "keep";
        fmt::print("{} (no rule decides: sift.default_action {})\n", action, action);
    } else {
        const sift::Rule &rule = rules.rules()[decision.rule];
        switch (rule.action) {
            case sift::Action::kSample:
                fmt::print(
                    "sample 1 in {} (this line, as the first match, is kept; later ones "
                    "are counted)",
                    rule.sample_one_in);
                break;
            case sift::Action::kRoute:
                fmt::print("route to topic {}", *decision.topic);
                break;
            default:
                fmt::print("{}", decision.drop ? "drop" : "keep");
        }
        fmt::print(" by rule '{}'\n", rule.id);
    }
    for (const std::string_view tag : decision.annotations.tags) fmt::print("  tag {}\n", tag);
    for (const event::ThreatMatch &m : decision.annotations.threats) {
        fmt::print("  threat intel: {} in {} matches indicator {} ({})\n", m.atomic, m.field,
                   m.indicator, m.provider);
    }
    if (decision.drop) {
        fmt::print("\nevent: none (dropped)\n");
        return 0;
    }
    // The event as run would produce it (before dedup folds repeats).
    const event::EventContext ctx{pipeline::observer_hostname(cfg),
                                  event::format_timestamp(wall_clock_ns())};
    event::EventAnnotations annotations = decision.annotations;
    annotations.sec = is_sec ? &sec : nullptr;
    std::string json;
    event::assemble_syslog_event(rec, event::address_text(rec.src_addr).view(), payload, d, ctx,
                                 &annotations, json);
    fmt::print("\nevent, to topic {}:\n{}\n",
               decision.topic ? *decision.topic : cfg.kafka.syslog_topic, json);
    return 0;
}

}  // namespace tapsift::cli
