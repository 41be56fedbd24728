#include "flow_corpus.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

#include "flow_kind.hpp"
#include "pcap_payloads.hpp"

namespace tapsift::testing {
namespace {

namespace fs = std::filesystem;

class Exporters {
  public:
    std::array<uint8_t, 4> of(const std::string &key) {
        const auto it = known_.find(key);
        if (it != known_.end()) return it->second;
        const uint32_t n = static_cast<uint32_t>(known_.size()) + 1;
        const std::array<uint8_t, 4> a = {10, 77, static_cast<uint8_t>(1 + n / 250),
                                          static_cast<uint8_t>(1 + n % 250)};
        known_.emplace(key, a);
        return a;
    }

  private:
    std::map<std::string, std::array<uint8_t, 4>> known_;
};

void add(FlowCorpus &c, const uint8_t *p, size_t len, std::array<uint8_t, 4> exporter) {
    wire::RecordKind kind;
    if (len > wire::kMaxPayloadBytes ||
        !dataplane::flow_kind(p, static_cast<uint32_t>(len), kind)) {
        c.skipped_frames++;
        return;
    }
    Datagram d{Bytes(p, p + len), kind, exporter};
    c.datagrams.push_back(std::move(d));
}

void load_capture(const fs::path &path, FlowCorpus &c, Exporters &exporters) {
    const CapturePayloads capture = read_udp_payloads(path.string());
    c.skipped_frames += capture.skipped_frames;
    for (const UdpPayload &u : capture.payloads) {
        const std::string source(reinterpret_cast<const char *>(u.src_addr), 16);
        add(c, u.bytes.data(), u.bytes.size(), exporters.of("pcap:" + source));
    }
}

Bytes read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An IPFIX File (RFC 5655): messages back to back, each as long as its header says.
void load_ipfix_file(const fs::path &path, FlowCorpus &c, std::array<uint8_t, 4> exporter) {
    const Bytes bytes = read_file(path);
    size_t at = 0;
    while (bytes.size() - at >= wire::kIpfixHeaderBytes) {
        const size_t len = (bytes[at + 2] << 8) | bytes[at + 3];
        if (len < wire::kIpfixHeaderBytes || len > bytes.size() - at) break;
        add(c, bytes.data() + at, len, exporter);
        at += len;
    }
}

}  // namespace

FlowCorpus load_flow_corpus(const std::string &dir) {
    std::vector<fs::path> files;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    FlowCorpus c;
    Exporters exporters;
    for (const fs::path &f : files) {
        const std::string ext = f.extension().string();
        const std::string folder = "dir:" + f.parent_path().string();
        if (ext == ".pcap") {
            load_capture(f, c, exporters);
        } else if (ext == ".dat" || ext == ".bin") {
            const Bytes b = read_file(f);
            add(c, b.data(), b.size(), exporters.of(folder));
        } else if (ext == ".ipfix") {
            load_ipfix_file(f, c, exporters.of(folder));
        } else {
            continue;  // expected outputs, notes
        }
        c.files++;
    }
    return c;
}

}  // namespace tapsift::testing
