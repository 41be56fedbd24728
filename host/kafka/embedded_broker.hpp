// The embedded Kafka-protocol broker: librdkafka's mock cluster (rdkafka_mock.h), in memory only.
#pragma once

#include <string>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace tapsift::kafka {

class EmbeddedBroker {
  public:
    // Starts `brokers` mock brokers on 127.0.0.1 ephemeral ports; throws std::runtime_error.
    explicit EmbeddedBroker(int brokers = 1);
    ~EmbeddedBroker();
    EmbeddedBroker(const EmbeddedBroker &) = delete;
    EmbeddedBroker &operator=(const EmbeddedBroker &) = delete;

    const std::string &bootstrap() const { return bootstrap_; }
    // The mock cluster has no CreateTopics API; topics are made here with their partition count.
    void create_topic(const std::string &name, int partitions);

    // Fault injection, for tests that drive the broker from outside (`tapsift broker --control`).
    // Each returns an empty string, or what went wrong.
    std::string set_broker_up(int broker_id, bool up);
    std::string set_leader(const std::string &topic, int partition, int broker_id);
    std::string set_rtt(int broker_id, int rtt_ms);
    // The next `count` Produce requests fail with `error` (a Kafka error code, e.g. 6 =
    // NOT_LEADER_OR_FOLLOWER, 7 = REQUEST_TIMED_OUT).
    void push_produce_errors(int count, int error);

  private:
    rd_kafka_s *handle_ = nullptr;  // the mock cluster needs a client instance to live in
    rd_kafka_mock_cluster_s *cluster_ = nullptr;
    std::string bootstrap_;
};

}  // namespace tapsift::kafka
