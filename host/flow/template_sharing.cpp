#include "flow/template_sharing.hpp"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include "kafka/assign_from_beginning.hpp"
#include "kafka/produce_copy.hpp"

namespace tapsift::flow {
namespace {

constexpr int kFlushTimeoutMs = 30000;
constexpr int kPollMs = 100;
// A topic that did not answer is tried again this often, each request waiting this long at most
// (the follower thread waits meanwhile; stop() too, at most twice this).
constexpr auto kRetryInterval = std::chrono::seconds(2);
constexpr int kRetryTimeoutMs = 1000;
// A handful of partitions is plenty: the topic holds one small message per template.
constexpr int kTopicPartitions = 1;

rd_kafka_conf_t *client_conf(const TemplateSharingSettings &s) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    const auto set = [&](const std::string &k, const std::string &v) {
        if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("flows.template_sharing: kafka property " + k + ": " + err);
        }
    };
    set("bootstrap.servers", s.bootstrap);
    for (const auto &[k, v] : s.properties) set(k, v);
    return conf;
}

rd_kafka_t *make_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("flows.template_sharing: kafka client: ") + err);
    }
    return rk;
}

int ms_left(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 1));
}

// Creates the topic compacted; one that exists is left as it is (the operator's). When the
// cluster refuses (no permission, no CreateTopics API), says why: the topic must then exist.
// False when the cluster did not answer within timeout_ms (asked again later).
bool create_topic(rd_kafka_t *rk, const std::string &topic, int timeout_ms) {
    char err[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(topic.c_str(), kTopicPartitions, -1, err, sizeof err);
    if (!nt) throw std::runtime_error("flows.template_sharing: topic " + topic + ": " + err);
    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, err, sizeof err);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + kPollMs);
    bool answered = ev != nullptr;
    std::string why;
    if (ev && rd_kafka_event_error(ev)) {
        const rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
        answered = e != RD_KAFKA_RESP_ERR__TIMED_OUT && e != RD_KAFKA_RESP_ERR__TRANSPORT &&
                   e != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;
        if (answered) why = rd_kafka_event_error_string(ev);
    } else if (ev) {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        for (size_t i = 0; i < n; ++i) {
            const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                spdlog::info("flows.template_sharing: created compacted topic {}", topic);
            } else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                why = rd_kafka_topic_result_error_string(res[i]);
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    if (!why.empty())
        spdlog::warn("flows.template_sharing: topic {} not created ({}); using it if it exists",
                     topic, why);
    return answered;
}

bool worth_logging(uint64_t nth) {
    return nth <= 10 || (nth & (nth - 1)) == 0;
}

}  // namespace

TemplateSharing::TemplateSharing(const TemplateSharingSettings &s)
    : settings_(s),
      publisher_(std::random_device{}() | (uint64_t{std::random_device{}()} << 32)),
      schedule_(s.republish_interval_ns, size_t{s.engines} * wire::kTemplateSlots) {
    for (uint32_t e = 0; e < s.engines; ++e) inboxes_.push_back(std::make_unique<Inbox>());
    rd_kafka_conf_t *pconf = client_conf(s);
    rd_kafka_conf_set_opaque(pconf, this);
    rd_kafka_conf_set_dr_msg_cb(pconf, [](rd_kafka_t *, const rd_kafka_message_t *m, void *self) {
        if (m->err) {
            auto *me = static_cast<TemplateSharing *>(self);
            const uint64_t n = ++me->publish_failed_;
            if (worth_logging(n))
                spdlog::warn("flows.template_sharing: a template was not published: {} ({} so far)",
                             rd_kafka_err2str(m->err), n);
        }
    });
    producer_ = make_client(RD_KAFKA_PRODUCER, pconf);
    rd_kafka_conf_t *cconf = client_conf(s);
    char err[512];
    for (const auto &[k, v] : std::map<std::string, std::string>{
             {"group.id", "tapsift-template-sharing"},  // offsets are never committed
             {"enable.auto.commit", "false"},
             {"enable.partition.eof", "true"},
             {"fetch.wait.max.ms", "100"}}) {
        rd_kafka_conf_set(cconf, k.c_str(), v.c_str(), err, sizeof err);
    }
    consumer_ = make_client(RD_KAFKA_CONSUMER, cconf);

    // What others shared before this start is in the inboxes before the first datagram.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(s.startup_wait_ms);
    std::string why;
    if (!connect(deadline, why)) {
        spdlog::warn(
            "flows.template_sharing: topic {} not reachable within {} ms ({}); trying again every "
            "{} s, and until it answers no template is taken from it or published to it",
            s.topic, s.startup_wait_ms, why, kRetryInterval.count());
    } else {
        while (!caught_up() && std::chrono::steady_clock::now() < deadline) {
        }
        if (!caught_up()) {
            spdlog::warn(
                "flows.template_sharing: topic {} not read to its end within {} ms; the rest "
                "follows while running",
                s.topic, s.startup_wait_ms);
        }
        spdlog::info("flows.template_sharing: {} template(s) taken from topic {} at start",
                     taken_.load(), s.topic);
    }
    follower_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "tmpl-share");
        follow();
    });
}

bool TemplateSharing::connect(std::chrono::steady_clock::time_point deadline, std::string &why) {
    if (settings_.create_topic && !topic_answered_)
        topic_answered_ = create_topic(producer_, settings_.topic, ms_left(deadline));
    why = kafka::assign_from_beginning(consumer_, settings_.topic, ms_left(deadline));
    if (!why.empty()) return false;
    connected_ = true;
    return true;
}

TemplateSharing::~TemplateSharing() {
    stop();
    rd_kafka_flush(producer_, kFlushTimeoutMs);
    rd_kafka_destroy(producer_);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
}

void TemplateSharing::stop() {
    stop_ = true;
    if (follower_.joinable()) follower_.join();
}

// One poll; true once every assigned partition has reached its end once.
bool TemplateSharing::caught_up() {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer_, kPollMs);
    if (m) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            end_offsets_[m->partition] = m->offset;
        } else if (m->err) {
            spdlog::warn("flows.template_sharing: {}", rd_kafka_message_errstr(m));
        } else {
            receive(m->key, m->key_len, m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_topic_partition_list_t *assigned = nullptr;
    if (rd_kafka_assignment(consumer_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
    const bool all = assigned->cnt > 0 && end_offsets_.size() >= static_cast<size_t>(assigned->cnt);
    rd_kafka_topic_partition_list_destroy(assigned);
    return all;
}

void TemplateSharing::follow() {
    auto next_try = std::chrono::steady_clock::now();
    while (!stop_.load(std::memory_order_relaxed)) {
        rd_kafka_poll(producer_, 0);  // delivery reports
        if (!connected_) {
            const auto now = std::chrono::steady_clock::now();
            std::string why;
            if (now < next_try) {
                std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
            } else if (connect(now + std::chrono::milliseconds(kRetryTimeoutMs), why)) {
                spdlog::info("flows.template_sharing: topic {} reachable: following it",
                             settings_.topic);
            } else {
                next_try = now + kRetryInterval;
            }
            continue;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer_, kPollMs);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            receive(m->key, m->key_len, m->payload, m->len);
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            spdlog::warn("flows.template_sharing: {}", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
    }
}

void TemplateSharing::receive(const void *key, size_t key_len, const void *value,
                              size_t value_len) {
    received_++;
    const std::string_view k(static_cast<const char *>(key), key ? key_len : 0);
    const std::string_view v(static_cast<const char *>(value), value ? value_len : 0);
    SharedTemplate t;
    const SharedTemplateError e = decode_shared_template(k, v, t);
    if (e != SharedTemplateError::kNone) {
        const uint64_t n = ++rejected_;
        if (worth_logging(n))
            spdlog::warn(
                "flows.template_sharing: message with key '{}' ({} bytes) refused: {} ({} "
                "so far)",
                k.substr(0, 64), v.size(), to_string(e), n);
        return;
    }
    if (t.publisher == publisher_) {
        own_++;
        return;
    }
    if (keys_.size() >= settings_.max_templates && keys_.count(std::string(k)) == 0) {
        const uint64_t n = ++over_limit_;
        if (worth_logging(n))
            spdlog::warn(
                "flows.template_sharing: {} templates taken already "
                "(flows.template_sharing.max_templates); {} not taken ({} so far)",
                keys_.size(), k, n);
        return;
    }
    keys_.emplace(k);
    taken_++;
    for (const auto &inbox : inboxes_) {
        std::lock_guard<std::mutex> lock(inbox->mutex);
        inbox->waiting.push_back(t);
        inbox->nonempty = true;
        offered_++;
    }
}

bool TemplateSharing::refresh_due(const uint8_t exporter[16], uint32_t domain, uint16_t template_id,
                                  int64_t ns) {
    std::lock_guard<std::mutex> lock(schedule_mutex_);
    return schedule_.due(exporter, domain, template_id, ns);
}

bool TemplateSharing::publish(SharedTemplate t) {
    t.publisher = publisher_;
    const std::string key = shared_template_key(t.exporter, t.domain, t.template_id);
    // Not before the topic answered: the cluster might create it itself, not compacted.
    if (!connected_) {
        const uint64_t n = ++not_connected_;
        if (worth_logging(n))
            spdlog::warn(
                "flows.template_sharing: template {} not published: topic {} not reachable yet "
                "({} so far; published at its next refresh)",
                key, settings_.topic, n);
        return false;
    }
    const std::string value = encode_shared_template(t);
    const rd_kafka_resp_err_t e =
        kafka::produce_copy(producer_, settings_.topic.c_str(), key.data(), key.size(),
                            value.data(), value.size(), nullptr);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("flows.template_sharing: template {} not published: {}", key,
                     rd_kafka_err2str(e));
        return false;
    }
    std::lock_guard<std::mutex> lock(schedule_mutex_);
    schedule_.published(t.exporter, t.domain, t.template_id, t.learned_ns);
    return true;
}

void TemplateSharing::take(uint32_t engine, std::vector<SharedTemplate> &out) {
    Inbox &inbox = *inboxes_.at(engine);
    if (!inbox.nonempty.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(inbox.mutex);
    out.insert(out.end(), inbox.waiting.begin(), inbox.waiting.end());
    inbox.waiting.clear();
    inbox.nonempty = false;
}

TemplateSharingCounters TemplateSharing::counters() const {
    TemplateSharingCounters c;
    c.received = received_;
    c.own = own_;
    c.rejected = rejected_;
    c.over_limit = over_limit_;
    c.taken = taken_;
    c.offered = offered_;
    c.publish_failed = publish_failed_;
    return c;
}

}  // namespace tapsift::flow
