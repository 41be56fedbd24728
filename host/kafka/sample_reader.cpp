#include "sample_reader.hpp"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <stdexcept>

#include "kafka/assign_from_beginning.hpp"

namespace tapsift::kafka {

std::vector<std::string> read_sample(const std::string &bootstrap, const std::string &topic,
                                     size_t max_messages, int timeout_ms) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "tapsift-sample-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("sample reader: ") + err);
    }
    std::vector<std::string> out;
    if (assign_from_beginning(rk, topic, timeout_ms).empty()) {
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        while (out.size() < max_messages && std::chrono::steady_clock::now() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (!m) continue;
            if (!m->err) out.emplace_back(static_cast<const char *>(m->payload), m->len);
            rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return out;
}

}  // namespace tapsift::kafka
