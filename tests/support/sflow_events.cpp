// sFlow events of captures and payload files, one JSON line per sample or malformed datagram,
// decoded by the sflow_parse kernel's datagram decoder and assembled by the host's sFlow event
// writer. The sFlow oracle (tests/e2e/test_sflow_tshark_oracle.py) compares them with tshark.
//   sflow_events [--scale] FILE...    FILE: .pcap (UDP to port 6343) or .bin (one datagram)
// Lines: {"source":FILE,"frame":N,"event":{...}} or {"source":FILE,"frame":N,"malformed":REASON}.
// event.sequence is the frame number; the arrival time is the epoch (captures keep no clock the
// decoder sees). Exit status 2 on a file that cannot be read.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "event/format.hpp"
#include "event/json_writer.hpp"
#include "event/sflow_event.hpp"
#include "sflow_corpus.hpp"
#include "sflow_parse/sflow_parse.hpp"

using namespace tapsift;

int main(int argc, char **argv) {
    event::FlowEventContext ctx;
    ctx.created = "1970-01-01T00:00:00Z";
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--scale") == 0)
            ctx.scale_sampled_counts = true;
        else
            files.emplace_back(argv[i]);
    }
    hls_kernels::SflowParseCounters counters{};
    std::vector<wire::SflowSample> samples(wire::kMaxSflowSamplesPerDatagram);
    std::string json;
    std::string line;
    for (const std::string &file : files) {
        std::vector<testing::SflowCorpusDatagram> datagrams;
        try {
            datagrams = testing::load_sflow_file(file, file);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "%s: %s\n", file.c_str(), e.what());
            return 2;
        }
        for (const testing::SflowCorpusDatagram &d : datagrams) {
            wire::IngestRecordHeader header{};
            std::memcpy(header.src_addr, d.src_addr, 16);
            header.src_port = d.src_port;
            header.dst_port = testing::kSflowPort;
            header.packet_seq = d.frame;
            wire::SflowSample base{};
            wire::SflowMalformed why = wire::SflowMalformed::kNone;
            uint32_t lost = 0;
            const uint32_t n = hls_kernels::sflow_decode_datagram(
                d.bytes.data(), static_cast<uint32_t>(d.bytes.size()), base, samples.data(),
                wire::kMaxSflowSamplesPerDatagram, &why, &lost, counters);
            const std::string exporter = event::format_address(d.src_addr);
            const std::string prefix =
                "{\"source\":\"" + file + "\",\"frame\":" + std::to_string(d.frame) + ",";
            for (uint32_t i = 0; i < n; ++i) {
                event::assemble_sflow_event({header, samples[i], i, nullptr}, exporter, ctx, json);
                std::printf("%s\"event\":%s}\n", prefix.c_str(), json.c_str());
            }
            if (why != wire::SflowMalformed::kNone) {
                std::printf("%s\"malformed\":\"%s\"}\n", prefix.c_str(),
                            event::sflow_malformed_name(why));
            }
        }
    }
    return 0;
}
