// The raw syslog inputs of the shipped corpus (rsyslog parser tests, fuzz seeds, Telegraf
// cases), read as the benchmarks use them: one message each, in directory order.
#pragma once

#include <string>
#include <vector>

namespace tapsift::testing {

// corpus_dir: tests/corpus (its syslog/ folder is read).
std::vector<std::string> syslog_corpus_messages(const std::string &corpus_dir);

}  // namespace tapsift::testing
