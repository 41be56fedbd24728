// The Kafka producer every event leaves through: idempotent, acks=all, compressed, keyed by source.
// Delivery reports are served by a poll thread of its own and feed the delivery counters.
//
// With a spool (kafka.spool.dir), nothing accepted is lost to a broker outage: events the local
// queue cannot take (on_queue_full: spool), events whose delivery fails, and events still queued
// at the shutdown deadline go to disk; a drain thread replays them, oldest first, once deliveries
// succeed again (or to probe whether they do).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "kafka/spool.hpp"
#include "metrics/counters.hpp"

struct rd_kafka_s;

namespace tapsift::kafka {

enum class QueueFullPolicy { kDrop, kSpool };

struct ProducerConfig {
    std::string bootstrap;
    std::map<std::string, std::string> properties;  // override the defaults below, verbatim
    uint32_t queue_full_timeout_ms = 1000;
    QueueFullPolicy on_queue_full = QueueFullPolicy::kDrop;
    std::optional<SpoolConfig> spool;
};

enum class ProduceResult { kAccepted, kSpooled, kQueueFull, kError };

class Producer {
  public:
    explicit Producer(const ProducerConfig &cfg);  // throws std::runtime_error
    ~Producer();
    Producer(const Producer &) = delete;
    Producer &operator=(const Producer &) = delete;

    // Copies key and value. Waits up to queue_full_timeout_ms while the local queue is full, then
    // applies the queue-full policy.
    ProduceResult produce(const std::string &topic, const void *key, size_t key_len,
                          const void *value, size_t value_len);
    // Waits (up to timeout_ms) until the spool has been replayed and every delivery reported.
    void drain(uint32_t timeout_ms);
    // The shutdown deadline: what is still queued or in flight after timeout_ms goes to the spool
    // (when there is one). Returns the events left without a delivery report.
    uint64_t shutdown(uint32_t timeout_ms);

    DeliveryCounters delivery() const;
    std::optional<SpoolCounters> spool_stats() const;
    uint64_t outstanding() const;  // accepted (or replayed) with no delivery report yet

  private:
    static void on_delivery(rd_kafka_s *, const void *msg, void *opaque);
    void replay_spool();
    bool deliveries_succeeding() const;

    rd_kafka_s *rk_ = nullptr;
    uint32_t queue_full_timeout_ms_;
    QueueFullPolicy on_queue_full_;
    std::unique_ptr<Spool> spool_;
    std::atomic<uint64_t> accepted_{0};
    std::atomic<uint64_t> replayed_{0};
    std::atomic<uint64_t> delivered_{0};
    std::atomic<uint64_t> failed_{0};
    std::atomic<uint64_t> spooled_after_failure_{0};
    std::atomic<uint64_t> replayed_in_flight_{0};
    std::atomic<int64_t> last_success_ns_{0};
    std::atomic<int64_t> last_failure_ns_{0};
    std::atomic<bool> stop_{false};
    std::atomic<bool> stop_replay_{false};
    std::thread poller_;
    std::thread replayer_;
};

}  // namespace tapsift::kafka
