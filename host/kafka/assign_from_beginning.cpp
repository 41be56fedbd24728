#include "kafka/assign_from_beginning.hpp"

#include <librdkafka/rdkafka.h>

namespace tapsift::kafka {

std::string assign_from_beginning(rd_kafka_s *consumer, const std::string &topic, int timeout_ms) {
    rd_kafka_topic_t *t = rd_kafka_topic_new(consumer, topic.c_str(), nullptr);
    const rd_kafka_metadata_t *md = nullptr;
    const rd_kafka_resp_err_t e = rd_kafka_metadata(consumer, 0, t, &md, timeout_ms);
    std::string why;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        why = rd_kafka_err2str(e);
    } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        why = md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no such topic";
    } else {
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
        for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
            rd_kafka_topic_partition_list_add(parts, topic.c_str(), md->topics[0].partitions[p].id)
                ->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_assign(consumer, parts);
        rd_kafka_topic_partition_list_destroy(parts);
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return why;
}

}  // namespace tapsift::kafka
