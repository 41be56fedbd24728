#include "kafka/property_check.hpp"

#include <librdkafka/rdkafka.h>

namespace tapsift::kafka {

std::map<std::string, std::string> property_problems(
    const std::map<std::string, std::string> &properties) {
    std::map<std::string, std::string> problems;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (const auto &[key, value] : properties) {
        char err[512] = {};
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            problems[key] = err;
        }
    }
    rd_kafka_conf_destroy(conf);
    return problems;
}

}  // namespace tapsift::kafka
