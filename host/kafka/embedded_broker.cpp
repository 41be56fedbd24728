#include "embedded_broker.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>

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
