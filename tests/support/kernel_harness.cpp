#include "kernel_harness.hpp"

#include <cstring>
#include <memory>
#include <stdexcept>

#include "ingest_batch_builder.hpp"
#include "syslog_parse/syslog_parse.hpp"

namespace tapsift::testing {
namespace {

std::string resolve(const std::string &payload, wire::Span s) {
    if (s.off + s.len > payload.size()) throw std::logic_error("descriptor span past the payload");
    return payload.substr(s.off, s.len);
}

}  // namespace

std::vector<ParsedSyslog> parse_messages(const std::vector<std::string> &messages,
                                         int64_t arrival_ns, int32_t utc_offset_s,
                                         uint8_t record_flags) {
    dataplane::IngestBatchBuilder batch(wire::kMaxRecordsPerBatch);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    std::vector<ParsedSyslog> out;
    auto descriptors =
        std::make_unique<hls_kernels::beat_t[]>(wire::kMaxRecordsPerBatch * wire::kDescriptorBeats);
    size_t done = 0;
    const auto run = [&] {
        hls_kernels::SyslogParseCounters ctr{};
        hls_kernels::syslog_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch.data()),
                                  descriptors.get(), utc_offset_s, &ctr);
        if (ctr.records != batch.records()) throw std::logic_error("kernel skipped records");
        for (uint32_t i = 0; i < batch.records(); ++i, ++done) {
            ParsedSyslog p;
            std::memcpy(
                &p.d,
                reinterpret_cast<const uint8_t *>(descriptors.get()) + i * wire::kDescriptorBytes,
                sizeof p.d);
            p.payload = messages[done];
            p.hostname = resolve(p.payload, p.d.hostname);
            p.appname = resolve(p.payload, p.d.appname);
            p.procid = resolve(p.payload, p.d.procid);
            p.msgid = resolve(p.payload, p.d.msgid);
            p.structured_data = resolve(p.payload, p.d.structured_data);
            p.message = resolve(p.payload, p.d.message);
            out.push_back(std::move(p));
        }
        batch.reset();
    };
    uint64_t seq = 1;
    for (const std::string &m : messages) {
        const dataplane::RecordMeta meta{addr,
                                         addr,
                                         40000,
                                         514,
                                         wire::RecordKind::kSyslog,
                                         record_flags,
                                         0,
                                         0,
                                         static_cast<uint64_t>(arrival_ns),
                                         seq++};
        const auto *bytes = reinterpret_cast<const uint8_t *>(m.data());
        if (!batch.add(meta, bytes, static_cast<uint32_t>(m.size()))) {
            run();
            batch.add(meta, bytes, static_cast<uint32_t>(m.size()));
        }
    }
    if (!batch.empty()) run();
    return out;
}

ParsedSyslog parse_message(const std::string &message, int64_t arrival_ns, int32_t utc_offset_s) {
    return parse_messages({message}, arrival_ns, utc_offset_s).front();
}

}  // namespace tapsift::testing
