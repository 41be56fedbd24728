// The Kafka producer every event leaves through: idempotent, acks=all, compressed, keyed by source.
// Delivery reports are served by a poll thread of its own and feed the delivery counters.
//
// With a spool (kafka.spool.dir), nothing accepted is lost to a broker outage: events the local
// queue cannot take (on_queue_full: spool), events whose delivery fails for an outage, and events
// still queued at the shutdown deadline go to disk; a replay thread sends them again, oldest
// first, once deliveries succeed (or to probe whether they do). Failures that no retry can fix
// (a message too large, no authorisation, a fatal producer error) are counted as lost, not spooled.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "kafka/spool.hpp"
#include "metrics/counters.hpp"
#include "metrics/duration_histogram.hpp"

struct rd_kafka_s;

namespace tapsift::kafka {

enum class QueueFullPolicy { kDrop, kSpool };

struct ProducerConfig {
    std::string bootstrap;
    std::map<std::string, std::string> properties;  // override the defaults, verbatim
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

    // Copies key and value. While the local queue is full, waits until deadline, then applies
    // the queue-full policy.
    ProduceResult produce(std::chrono::steady_clock::time_point deadline, const std::string &topic,
                          const void *key, size_t key_len, const void *value, size_t value_len);
    // Waits (up to timeout_ms) until the spool has been replayed and every delivery reported.
    void drain(uint32_t timeout_ms);
    // The shutdown deadline: what is still queued or in flight after timeout_ms goes to the spool
    // (when there is one), or is counted as lost. Returns the events left without a report.
    uint64_t shutdown(uint32_t timeout_ms);

    DeliveryCounters delivery() const;
    std::optional<SpoolCounters> spool_stats() const;
    uint64_t outstanding() const;  // accepted (or replayed) with no delivery report yet
    // Produce call ► successful delivery report, as librdkafka measured it.
    DurationHistogram delivery_latency() const { return delivery_latency_.load(); }

  private:
    static void on_delivery(rd_kafka_s *, const void *msg, void *opaque);
    // A failed event: to the spool when an outage explains the failure, else counted as lost.
    void keep_or_count_lost(const char *topic, std::string_view key, std::string_view value,
                            int err);
    void replay_spool();
    bool deliveries_succeeding() const;

    rd_kafka_s *rk_ = nullptr;
    QueueFullPolicy on_queue_full_;
    std::unique_ptr<Spool> spool_;
    std::atomic<uint64_t> accepted_{0};
    std::atomic<uint64_t> replayed_{0};
    std::atomic<uint64_t> delivered_{0};
    std::atomic<uint64_t> failed_{0};
    std::atomic<uint64_t> spooled_after_failure_{0};
    std::atomic<uint64_t> produce_errors_{0};
    std::atomic<uint64_t> replayed_in_flight_{0};
    std::atomic<int64_t> last_success_ns_{0};
    std::atomic<int64_t> last_failure_ns_{0};
    AtomicDurationHistogram delivery_latency_;
    std::atomic<bool> delivered_in_poll_{false};  // a success was reported since the last poll
    std::atomic<bool> stop_{false};
    std::atomic<bool> stop_replay_{false};
    std::thread poller_;
    std::thread replayer_;
};

}  // namespace tapsift::kafka
