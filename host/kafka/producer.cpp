#include "producer.hpp"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "metrics/wall_clock.hpp"
#include "produce_copy.hpp"

namespace tapsift::kafka {
namespace {

// The producer settings that make "accepted" mean "will arrive exactly once" (KIP-98), plus
// batching that measured well on these machines (2-vCPU VM, lz4, 1 MB batches, 5 ms linger). Config
// properties override them.
const std::map<std::string, std::string> kDefaults = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"compression.codec", "lz4"},
    {"linger.ms", "5"},
    {"batch.size", "1000000"},
    {"queue.buffering.max.messages", "1000000"},
    // librdkafka's own default is 1 GiB; this bounds the gateway's memory. When it is full, RX
    // waits (queue_full_timeout_ms), then the queue-full policy applies.
    {"queue.buffering.max.kbytes", "32768"},
    {"message.timeout.ms", "300000"},
};

// The spool replays at most this many events at a time, and not while the queue is this full.
constexpr size_t kReplayBatch = 1000;
constexpr int kReplayHighWater = 10000;
// After a failure, the replayer probes the broker with one event at most this often.
constexpr int64_t kProbeIntervalNs = 1000000000;

void set(rd_kafka_conf_t *conf, const std::string &k, const std::string &v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error("kafka property " + k + "=" + v + ": " + err);
    }
}

}  // namespace

Producer::Producer(const ProducerConfig &cfg) : on_queue_full_(cfg.on_queue_full) {
    if (cfg.spool) spool_ = std::make_unique<Spool>(*cfg.spool);
    if (on_queue_full_ == QueueFullPolicy::kSpool && !spool_) {
        throw std::runtime_error(
            "kafka.on_queue_full is spool but no kafka.spool.dir is configured");
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", cfg.bootstrap);
    for (const auto &kv : kDefaults) set(conf, kv.first, kv.second);
    for (const auto &kv : cfg.properties) set(conf, kv.first, kv.second);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t *rk, const rd_kafka_message_t *m,
                                         void *opaque) { on_delivery(rk, m, opaque); });
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk_) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("kafka producer: ") + err);
    }
    poller_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "kafka-dr");  // seen in top -H and perf
        while (!stop_.load(std::memory_order_relaxed)) {
            rd_kafka_poll(rk_, 50);
            // Once per poll, not per report: one poll serves thousands of reports.
            if (delivered_in_poll_.exchange(false, std::memory_order_relaxed))
                last_success_ns_ = wall_clock_ns();
        }
    });
    if (spool_) replayer_ = std::thread([this] { replay_spool(); });
}

Producer::~Producer() {
    stop_replay_ = true;
    if (replayer_.joinable()) replayer_.join();
    stop_ = true;
    poller_.join();
    rd_kafka_destroy(rk_);
}

namespace {

// Errors an outage explains: worth keeping on disk until the broker is back.
bool outage_error(int err) {
    switch (static_cast<rd_kafka_resp_err_t>(err)) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
        case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
        case RD_KAFKA_RESP_ERR__TRANSPORT:
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
        case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
        case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
        case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
        case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
        case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
        case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
            return true;
        default:
            return false;
    }
}

// 1, 2, 4, 8, ...: a storm of identical failures stays visible without a line per event.
bool worth_logging(uint64_t nth) {
    return (nth & (nth - 1)) == 0;
}

}  // namespace

void Producer::keep_or_count_lost(const char *topic, std::string_view key, std::string_view value,
                                  int err) {
    last_failure_ns_ = wall_clock_ns();
    if (spool_ && outage_error(err) &&
        spool_->append(topic, key, value) == Spool::AppendResult::kOk) {
        spooled_after_failure_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const uint64_t lost = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (worth_logging(lost)) {
        spdlog::warn("kafka delivery failed, {} event(s) lost so far: {}", lost,
                     rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
    }
}

void Producer::on_delivery(rd_kafka_s *, const void *msg, void *opaque) {
    auto *self = static_cast<Producer *>(opaque);
    const auto *m = static_cast<const rd_kafka_message_t *>(msg);
    auto *replayed = static_cast<std::shared_ptr<SegmentReplay> *>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->delivered_.fetch_add(1, std::memory_order_relaxed);
        self->delivered_in_poll_.store(true, std::memory_order_relaxed);
        const int64_t latency_us = rd_kafka_message_latency(m);  // -1: not measured
        if (latency_us >= 0) self->delivery_latency_.observe(latency_us * 1000);
    } else {
        self->keep_or_count_lost(rd_kafka_topic_name(m->rkt),
                                 {static_cast<const char *>(m->key), m->key_len},
                                 {static_cast<const char *>(m->payload), m->len}, m->err);
        // A failure after this poll's successes is the newer news.
        self->delivered_in_poll_.store(false, std::memory_order_relaxed);
    }
    if (replayed) {
        self->spool_->settle(*replayed);
        self->replayed_in_flight_.fetch_sub(1, std::memory_order_relaxed);
        delete replayed;
    }
}

bool Producer::deliveries_succeeding() const {
    return last_failure_ns_.load() <= last_success_ns_.load() || replayed_in_flight_.load() == 0;
}

// After a failure, one event at a time probes the broker (the in-flight check above), at most
// every kProbeInterval; once a delivery succeeds, whole batches follow.
void Producer::replay_spool() {
    std::vector<SpooledRecord> batch;
    while (!stop_replay_.load()) {
        spool_->sync_if_due();
        const bool probing = last_failure_ns_.load() > last_success_ns_.load();
        const bool probe_due = wall_clock_ns() - last_failure_ns_.load() > kProbeIntervalNs;
        if (spool_->empty() || !deliveries_succeeding() || (probing && !probe_due) ||
            rd_kafka_outq_len(rk_) > kReplayHighWater) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        batch.clear();
        std::shared_ptr<SegmentReplay> segment =
            spool_->read_batch(probing ? 1 : kReplayBatch, batch);
        if (!segment) {  // what is on disk is all in flight already
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        for (const SpooledRecord &r : batch) {
            auto *opaque = new std::shared_ptr<SegmentReplay>(segment);
            replayed_in_flight_.fetch_add(1);
            rd_kafka_resp_err_t e;
            while ((e = produce_copy(rk_, r.topic.c_str(), r.key.data(), r.key.size(),
                                     r.value.data(), r.value.size(), opaque)) ==
                       RD_KAFKA_RESP_ERR__QUEUE_FULL &&
                   !stop_replay_.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                replayed_.fetch_add(1);
                continue;
            }
            replayed_in_flight_.fetch_sub(1);
            delete opaque;
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                return;  // stopping: the unsent rest stays on disk
            keep_or_count_lost(r.topic.c_str(), r.key, r.value, e);
            spool_->settle(segment);
        }
    }
}

ProduceResult Producer::produce(std::chrono::steady_clock::time_point deadline,
                                const std::string &topic, const void *key, size_t key_len,
                                const void *value, size_t value_len) {
    for (;;) {
        const rd_kafka_resp_err_t e =
            produce_copy(rk_, topic.c_str(), key, key_len, value, value_len, nullptr);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            accepted_.fetch_add(1, std::memory_order_relaxed);
            return ProduceResult::kAccepted;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            const uint64_t n = produce_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
            if (worth_logging(n))
                spdlog::warn("kafka produce to {} failed ({} so far): {}", topic, n,
                             rd_kafka_err2str(e));
            return ProduceResult::kError;
        }
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the poller drains the queue
    }
    if (on_queue_full_ == QueueFullPolicy::kSpool &&
        spool_->append(topic, {static_cast<const char *>(key), key_len},
                       {static_cast<const char *>(value), value_len}) == Spool::AppendResult::kOk) {
        return ProduceResult::kSpooled;
    }
    return ProduceResult::kQueueFull;
}

void Producer::drain(uint32_t timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline &&
           ((spool_ && !spool_->empty()) || rd_kafka_outq_len(rk_) > 0)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

uint64_t Producer::shutdown(uint32_t timeout_ms) {
    stop_replay_ = true;
    if (replayer_.joinable()) replayer_.join();
    rd_kafka_flush(rk_, static_cast<int>(timeout_ms));
    const int undelivered = rd_kafka_outq_len(rk_);
    if (undelivered > 0) {
        // Past the deadline: take everything back from librdkafka; the delivery reports of the
        // purged events put them in the spool, or count them as lost. An event purged in flight
        // may also have reached the broker (at least once, never silently lost).
        const uint64_t spooled_before = spooled_after_failure_.load();
        rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(rk_, 1000);  // serves the purged events' delivery reports
        const uint64_t spooled = spooled_after_failure_.load() - spooled_before;
        spdlog::warn("shutdown deadline: {} event(s) undelivered; {} spooled, {} lost", undelivered,
                     spooled, static_cast<uint64_t>(undelivered) - spooled);
    }
    const uint64_t left = outstanding();
    if (left > 0)
        spdlog::warn("{} event(s) without a delivery report after the shutdown deadline", left);
    return left;
}

DeliveryCounters Producer::delivery() const {
    return DeliveryCounters{delivered_.load(), failed_.load(), spooled_after_failure_.load(),
                            replayed_.load()};
}

std::optional<SpoolCounters> Producer::spool_stats() const {
    if (!spool_) return std::nullopt;
    return spool_->stats();
}

uint64_t Producer::outstanding() const {
    return accepted_.load() + replayed_.load() - delivered_.load() - failed_.load() -
           spooled_after_failure_.load();
}

}  // namespace tapsift::kafka
