// Reads a few events back from a topic, from the beginning of every partition: what the demo
// prints to show that the broker really holds them.
#pragma once

#include <string>
#include <vector>

namespace tapsift::kafka {

std::vector<std::string> read_sample(const std::string &bootstrap, const std::string &topic,
                                     size_t max_messages, int timeout_ms);

}  // namespace tapsift::kafka
