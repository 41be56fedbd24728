// libFuzzer: one datagram ► ingest batch ► syslog_parse ► event assembly. Spans must stay inside
// the payload and the event must be produced for every forwarded record.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "event/syslog_event.hpp"
#include "ingest_batch_builder.hpp"
#include "syslog_parse/syslog_parse.hpp"
#include "wire/descriptor.hpp"

using namespace tapsift;

namespace {

void require_inside(wire::Span s, size_t len) {
    if (static_cast<size_t>(s.off) + s.len > len) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > wire::kMaxPayloadBytes) return 0;
    static dataplane::IngestBatchBuilder batch(1);
    static hls_kernels::beat_t out[wire::kDescriptorBeats];
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    batch.reset();
    const dataplane::RecordMeta meta{
        addr, addr, 1, 514, wire::RecordKind::kSyslog, 0, 0, 0, 1793491200ULL * 1000000000ULL, 1};
    batch.add(meta, data, static_cast<uint32_t>(size));
    hls_kernels::SyslogParseCounters ctr{};
    hls_kernels::syslog_parse(reinterpret_cast<const hls_kernels::beat_t *>(batch.data()), out, 0,
                              &ctr);
    if (ctr.records != 1) std::abort();
    wire::Descriptor d;
    std::memcpy(&d, out, sizeof d);
    for (wire::Span s : {d.hostname, d.appname, d.procid, d.msgid, d.structured_data, d.message}) {
        require_inside(s, size);
    }
    if (d.verdict != static_cast<uint8_t>(wire::Verdict::kForward)) return 0;
    wire::IngestRecordHeader rec{};
    std::memcpy(rec.src_addr, addr, 16);
    static std::string json;
    event::assemble_syslog_event(rec, "192.0.2.1", data, d,
                                 event::EventContext{"fuzz", "1970-01-01T00:00:00.000Z"}, nullptr,
                                 json);
    if (json.empty() || json.front() != '{' || json.back() != '}') std::abort();
    return 0;
}
