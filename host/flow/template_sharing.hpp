// flows.template_sharing: flow templates shared between gateways through a compacted Kafka topic.
// Several gateways behind one tap aggregation layer (or ECMP) each see part of an exporter's
// datagrams; a template one of them sees is published, keyed by (exporter, domain, template ID)
// (flow/shared_template.hpp), and the others learn it from the topic, read from the beginning at
// start and followed while they run.
//
// Threads: the lcores publish (librdkafka's produce is thread-safe) and take what is waiting for
// their engine; one thread of this class follows the topic and hands every valid template to
// each engine's inbox (an exporter's data may reach any lcore of another gateway). The engine
// installs it by offloading a datagram made of it (pipeline/flow_handler.cpp), so the template
// reaches the engine's store as one from the wire does.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "flow/republish_schedule.hpp"
#include "flow/shared_template.hpp"
#include "metrics/counters.hpp"

struct rd_kafka_s;

namespace tapsift::flow {

struct TemplateSharingSettings {
    std::string bootstrap;
    std::map<std::string, std::string> properties;  // kafka.properties (security, ...)
    std::string topic;
    uint32_t max_templates;    // distinct keys taken from the topic; more are counted, not taken
    uint32_t startup_wait_ms;  // reading the topic to its end at start takes at most this
    uint32_t engines;          // one inbox per lcore's flow engine
    bool create_topic;         // false: it exists (the embedded broker has no CreateTopics)
    // A refresh goes to the topic again this long after the key's last publication (packet
    // time): half of flows.template_timeout_s (flow/republish_schedule.hpp).
    int64_t republish_interval_ns;
};

class TemplateSharing {
  public:
    // Creates the topic (cleanup.policy=compact) if it is missing, reads it to its end, then
    // follows it; at most startup_wait_ms for all of that. A cluster that does not answer by then
    // does not stop the start: the topic is tried again every few seconds, and until it answers
    // nothing is taken from it or published to it (logged). Throws std::runtime_error when no
    // client can be made.
    explicit TemplateSharing(const TemplateSharingSettings &s);
    ~TemplateSharing();
    TemplateSharing(const TemplateSharing &) = delete;
    TemplateSharing &operator=(const TemplateSharing &) = delete;

    // A template this gateway learned from the wire (learned or replaced; or a refresh that is
    // due). False when it was not published: the topic has not answered yet, or the producer
    // refused it (logged); a refresh of it is then due at once.
    bool publish(SharedTemplate t);
    // Whether a refresh the wire brought at packet time ns is to be published. Thread-safe (every
    // lcore asks); two lcores may both publish one refresh, which costs one message.
    bool refresh_due(const uint8_t exporter[16], uint32_t domain, uint16_t template_id, int64_t ns);
    // Moves what waits for engine's store into out (appended). Cheap when nothing waits.
    void take(uint32_t engine, std::vector<SharedTemplate> &out);
    // Stops following the topic (before the engines count what is left in their inboxes).
    void stop();
    // The topic side: received, own, rejected, over_limit, taken, offered, publish_failed.
    TemplateSharingCounters counters() const;

  private:
    // Creates the topic if asked and not done yet, and assigns its partitions from the beginning,
    // each waiting until deadline at most. True once assigned; why says what failed.
    bool connect(std::chrono::steady_clock::time_point deadline, std::string &why);
    void follow();
    void receive(const void *key, size_t key_len, const void *value, size_t value_len);
    bool caught_up();

    TemplateSharingSettings settings_;
    uint64_t publisher_;  // this process; its own messages are not taken back
    rd_kafka_s *producer_ = nullptr;
    rd_kafka_s *consumer_ = nullptr;
    struct Inbox {
        std::mutex mutex;
        std::vector<SharedTemplate> waiting;
        std::atomic<bool> nonempty{false};
    };
    std::vector<std::unique_ptr<Inbox>> inboxes_;
    std::mutex schedule_mutex_;
    RepublishSchedule schedule_;              // under schedule_mutex_
    std::set<std::string> keys_;              // taken so far (follow thread only)
    std::map<int32_t, int64_t> end_offsets_;  // at start: each partition's end
    std::atomic<uint64_t> received_{0}, own_{0}, rejected_{0}, over_limit_{0}, taken_{0},
        offered_{0}, publish_failed_{0};
    bool topic_answered_ = false;         // the CreateTopics request was answered (connect only)
    std::atomic<bool> connected_{false};  // the partitions are assigned
    std::atomic<uint64_t> not_connected_{0};  // publications refused before connected_
    std::atomic<bool> stop_{false};
    std::thread follower_;
};

}  // namespace tapsift::flow
