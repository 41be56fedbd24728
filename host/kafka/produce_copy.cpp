#include "kafka/produce_copy.hpp"

namespace tapsift::kafka {

rd_kafka_resp_err_t produce_copy(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                                 const void *value, size_t value_len, void *opaque) {
    rd_kafka_vu_t args[5];
    args[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    args[0].u.cstr = topic;
    args[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    args[1].u.i = RD_KAFKA_MSG_F_COPY;
    args[2].vtype = RD_KAFKA_VTYPE_KEY;
    args[2].u.mem = {const_cast<void *>(key), key_len};
    args[3].vtype = RD_KAFKA_VTYPE_VALUE;
    args[3].u.mem = {const_cast<void *>(value), value_len};
    args[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    args[4].u.ptr = opaque;
    rd_kafka_error_t *error = rd_kafka_produceva(rk, args, 5);
    const rd_kafka_resp_err_t e = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (error) rd_kafka_error_destroy(error);
    return e;
}

}  // namespace tapsift::kafka
