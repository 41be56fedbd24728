#include "embedded_broker.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>
#include <vector>

namespace tapsift::kafka {

EmbeddedBroker::EmbeddedBroker(int brokers) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    // No bootstrap servers: this instance only hosts the cluster and never connects anywhere.
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!handle_) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("embedded broker: ") + err);
    }
    cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
    if (!cluster_) {
        rd_kafka_destroy(handle_);
        throw std::runtime_error("embedded broker: rd_kafka_mock_cluster_new failed");
    }
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

EmbeddedBroker::~EmbeddedBroker() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
}

void EmbeddedBroker::create_topic(const std::string &name, int partitions) {
    const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        throw std::runtime_error("embedded broker: cannot create topic " + name + ": " +
                                 rd_kafka_err2str(e));
    }
}

}  // namespace tapsift::kafka

namespace tapsift::kafka {
namespace {

constexpr int16_t kApiKeyProduce = 0;  // Kafka protocol ApiKey of Produce requests

std::string describe(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : rd_kafka_err2str(e);
}

}  // namespace

std::string EmbeddedBroker::set_broker_up(int broker_id, bool up) {
    return describe(up ? rd_kafka_mock_broker_set_up(cluster_, broker_id)
                       : rd_kafka_mock_broker_set_down(cluster_, broker_id));
}

std::string EmbeddedBroker::set_leader(const std::string &topic, int partition, int broker_id) {
    return describe(
        rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker_id));
}

std::string EmbeddedBroker::set_rtt(int broker_id, int rtt_ms) {
    return describe(rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms));
}

void EmbeddedBroker::push_produce_errors(int count, int error) {
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                            static_cast<rd_kafka_resp_err_t>(error));
    rd_kafka_mock_push_request_errors_array(cluster_, kApiKeyProduce, errors.size(), errors.data());
}

}  // namespace tapsift::kafka
