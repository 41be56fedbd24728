// Test helper: every sFlow datagram of tests/corpus/sflow: the UDP payloads sent to port 6343 in
// the captures (pcap/**.pcap) and the payload files (payloads/**.bin, one datagram each, as frame
// 1). Files in path order, datagrams in file order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flow_harness.hpp"

namespace tapsift::testing {

constexpr uint16_t kSflowPort = 6343;

struct SflowCorpusDatagram {
    std::string source;  // the file, relative to the corpus directory
    uint32_t frame;      // 1-based, as tshark numbers it
    uint8_t src_addr[16];
    uint16_t src_port;
    Bytes bytes;
};

std::vector<SflowCorpusDatagram> load_sflow_corpus(const std::string &dir);

// The datagrams of one capture or payload file (source: the name to report it under).
std::vector<SflowCorpusDatagram> load_sflow_file(const std::string &path,
                                                 const std::string &source);

}  // namespace tapsift::testing
