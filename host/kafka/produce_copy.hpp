// One message handed to librdkafka, which copies key and value (RD_KAFKA_MSG_F_COPY), through
// rd_kafka_produceva: the RD_KAFKA_V_* macros of rd_kafka_producev are GNU statement
// expressions, which -Wpedantic refuses under clang.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstddef>

namespace tapsift::kafka {

rd_kafka_resp_err_t produce_copy(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                                 const void *value, size_t value_len, void *opaque);

}  // namespace tapsift::kafka
