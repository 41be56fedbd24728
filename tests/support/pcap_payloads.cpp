#include "pcap_payloads.hpp"

#include <pcap/pcap.h>

#include <cstring>
#include <stdexcept>

#include "l2l4_decode.hpp"

namespace tapsift::testing {
namespace {

constexpr int kLinuxCooked = 113;  // DLT_LINUX_SLL

}  // namespace

CapturePayloads read_udp_payloads(const std::string &path) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path.c_str(), err);
    if (p == nullptr) throw std::runtime_error(err);
    const int link = pcap_datalink(p);
    pcap_pkthdr *h = nullptr;
    const u_char *data = nullptr;
    std::vector<uint8_t> frame;
    CapturePayloads out;
    uint32_t number = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        number++;
        frame.assign(data, data + h->caplen);
        if (link == kLinuxCooked) {  // 16-byte cooked header: as Ethernet, its protocol kept
            if (frame.size() < 16) {
                out.skipped_frames++;
                continue;
            }
            std::vector<uint8_t> eth(12, 0);
            eth.insert(eth.end(), frame.begin() + 14, frame.end());
            frame.swap(eth);
        } else if (link != DLT_EN10MB) {
            out.skipped_frames++;
            continue;
        }
        const dataplane::DecodedPacket d =
            dataplane::decode_l2l4(frame.data(), static_cast<uint32_t>(frame.size()));
        if (d.status != dataplane::DecodeStatus::kUdp) {
            out.skipped_frames++;
            continue;
        }
        UdpPayload u;
        u.frame = number;
        std::memcpy(u.src_addr, d.src_addr, 16);
        u.src_port = d.src_port;
        u.dst_port = d.dst_port;
        const uint8_t *payload = frame.data() + d.payload_offset;
        u.bytes.assign(payload, payload + d.payload_len);
        out.payloads.push_back(std::move(u));
    }
    pcap_close(p);
    return out;
}

}  // namespace tapsift::testing
