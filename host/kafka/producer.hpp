// The Kafka producer every event leaves through: idempotent, acks=all, compressed, keyed by source.
// Delivery reports are served by a poll thread of its own and feed the delivery counters.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "metrics/counters.hpp"

struct rd_kafka_s;

namespace tapsift::kafka {

struct ProducerConfig {
    std::string bootstrap;
    std::map<std::string, std::string> properties;  // override the defaults below, verbatim
    uint32_t queue_full_timeout_ms = 1000;
};

enum class ProduceResult { kAccepted, kQueueFull, kError };

class Producer {
  public:
    explicit Producer(const ProducerConfig &cfg);  // throws std::runtime_error
    ~Producer();
    Producer(const Producer &) = delete;
    Producer &operator=(const Producer &) = delete;

    // Copies key and value. Waits up to queue_full_timeout_ms while the local queue is full.
    ProduceResult produce(const std::string &topic, const void *key, size_t key_len,
                          const void *value, size_t value_len);
    // Waits for every outstanding delivery report; returns the number still outstanding.
    int flush(uint32_t timeout_ms);
    DeliveryCounters delivery() const;
    uint64_t outstanding() const;

  private:
    static void on_delivery(rd_kafka_s *, const void *msg, void *opaque);

    rd_kafka_s *rk_ = nullptr;
    uint32_t queue_full_timeout_ms_;
    std::atomic<uint64_t> delivered_{0};
    std::atomic<uint64_t> failed_{0};
    std::atomic<uint64_t> accepted_{0};
    std::atomic<bool> stop_{false};
    std::thread poller_;
};

}  // namespace tapsift::kafka
