#include "sflow_corpus.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "pcap_payloads.hpp"

namespace tapsift::testing {
namespace {

namespace fs = std::filesystem;

// Payload files have no addresses: they get TEST-NET-1's 192.0.2.1, source port 6343.
constexpr uint8_t kPayloadFileSource[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};

}  // namespace

std::vector<SflowCorpusDatagram> load_sflow_file(const std::string &path,
                                                 const std::string &source) {
    std::vector<SflowCorpusDatagram> out;
    const std::string ext = fs::path(path).extension().string();
    if (ext == ".pcap") {
        for (UdpPayload &u : read_udp_payloads(path).payloads) {
            if (u.dst_port != kSflowPort) continue;
            SflowCorpusDatagram d{source, u.frame, {}, u.src_port, std::move(u.bytes)};
            std::memcpy(d.src_addr, u.src_addr, 16);
            out.push_back(std::move(d));
        }
    } else if (ext == ".bin") {
        std::ifstream in(path, std::ios::binary);
        SflowCorpusDatagram d{
            source,
            1,
            {},
            kSflowPort,
            Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
        std::memcpy(d.src_addr, kPayloadFileSource, 16);
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<SflowCorpusDatagram> load_sflow_corpus(const std::string &dir) {
    std::vector<fs::path> files;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<SflowCorpusDatagram> out;
    for (const fs::path &f : files) {
        for (SflowCorpusDatagram &d : load_sflow_file(f.string(), fs::relative(f, dir).string())) {
            out.push_back(std::move(d));
        }
    }
    return out;
}

}  // namespace tapsift::testing
