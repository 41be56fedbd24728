// A consumer that reads a whole topic: every partition assigned from its first message (no group
// membership, no committed offsets).
#pragma once

#include <string>

struct rd_kafka_s;

namespace tapsift::kafka {

// Empty when assigned; else why not (the topic's metadata could not be read, or it is missing).
std::string assign_from_beginning(rd_kafka_s *consumer, const std::string &topic, int timeout_ms);

}  // namespace tapsift::kafka
