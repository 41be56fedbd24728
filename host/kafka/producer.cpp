#include "producer.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace tapsift::kafka {
namespace {

// The producer settings that make "accepted" mean "will arrive exactly once" (KIP-98), plus
// batching that measured well here (../shared/dpdk-notes.md). Config properties override them.
const std::map<std::string, std::string> kDefaults = {
    {"enable.idempotence", "true"},   {"acks", "all"},
    {"compression.codec", "lz4"},     {"linger.ms", "5"},
    {"batch.size", "1000000"},        {"queue.buffering.max.messages", "1000000"},
    {"message.timeout.ms", "300000"},
};

void set(rd_kafka_conf_t *conf, const std::string &k, const std::string &v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error("kafka property " + k + "=" + v + ": " + err);
    }
}

}  // namespace

Producer::Producer(const ProducerConfig &cfg) : queue_full_timeout_ms_(cfg.queue_full_timeout_ms) {
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
        while (!stop_.load(std::memory_order_relaxed)) rd_kafka_poll(rk_, 50);
    });
}

Producer::~Producer() {
    stop_ = true;
    poller_.join();
    rd_kafka_destroy(rk_);
}

void Producer::on_delivery(rd_kafka_s *, const void *msg, void *opaque) {
    auto *self = static_cast<Producer *>(opaque);
    const auto *m = static_cast<const rd_kafka_message_t *>(msg);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->delivered_.fetch_add(1, std::memory_order_relaxed);
    } else {
        self->failed_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("kafka delivery failed: {}", rd_kafka_err2str(m->err));
    }
}

ProduceResult Producer::produce(const std::string &topic, const void *key, size_t key_len,
                                const void *value, size_t value_len) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(queue_full_timeout_ms_);
    for (;;) {
        rd_kafka_vu_t args[4];
        args[0].vtype = RD_KAFKA_VTYPE_TOPIC;
        args[0].u.cstr = topic.c_str();
        args[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
        args[1].u.i = RD_KAFKA_MSG_F_COPY;
        args[2].vtype = RD_KAFKA_VTYPE_KEY;
        args[2].u.mem = {const_cast<void *>(key), key_len};
        args[3].vtype = RD_KAFKA_VTYPE_VALUE;
        args[3].u.mem = {const_cast<void *>(value), value_len};
        rd_kafka_error_t *error = rd_kafka_produceva(rk_, args, 4);
        const rd_kafka_resp_err_t e =
            error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (error) rd_kafka_error_destroy(error);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            accepted_.fetch_add(1, std::memory_order_relaxed);
            return ProduceResult::kAccepted;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            spdlog::warn("kafka produce to {} failed: {}", topic, rd_kafka_err2str(e));
            return ProduceResult::kError;
        }
        if (std::chrono::steady_clock::now() >= deadline) return ProduceResult::kQueueFull;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the poller drains the queue
    }
}

int Producer::flush(uint32_t timeout_ms) {
    rd_kafka_flush(rk_, static_cast<int>(timeout_ms));
    return rd_kafka_outq_len(rk_);
}

DeliveryCounters Producer::delivery() const {
    return DeliveryCounters{delivered_.load(), failed_.load()};
}

uint64_t Producer::outstanding() const {
    return accepted_.load() - delivered_.load() - failed_.load();
}

}  // namespace tapsift::kafka
