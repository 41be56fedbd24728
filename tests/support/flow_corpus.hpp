// Test helper: every NetFlow v5/v9 and IPFIX datagram of tests/corpus/flows, as flow_harness
// datagrams: the UDP payloads of the captures (pcap/**.pcap, Ethernet or Linux cooked, decoded by
// the data plane's own L2-L4 decoder), the payload files (one datagram each) and the IPFIX file
// (split into its messages). Files in path order, datagrams in file order.
//
// Exporters: a capture's datagrams keep one address per original source address (shared across
// captures, so a template capture and its data capture meet); payload files get one address per
// folder (so a folder's files share templates, as one exporter's would).
#pragma once

#include <string>
#include <vector>

#include "flow_harness.hpp"

namespace tapsift::testing {

struct FlowCorpus {
    std::vector<Datagram> datagrams;
    uint32_t files = 0;
    uint32_t skipped_frames = 0;  // not a UDP datagram of a flow version (sFlow, TCP, ...)
};

FlowCorpus load_flow_corpus(const std::string &dir);

}  // namespace tapsift::testing
