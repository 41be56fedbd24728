// libFuzzer: one message ► parse_cef_leef ► write_sec_object and sec_ecs. A parsed event must
// give a non-empty JSON object; a failure leaves the format kNone, with a header error or none.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event/cef_leef.hpp"
#include "event/json_writer.hpp"

using namespace tapsift::event;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static SecEvent event;  // reused, as the pipeline does
    const std::string_view message(reinterpret_cast<const char *>(data), size);
    std::string error;
    if (!parse_cef_leef(message, event, &error)) {
        if (event.format != SecFormat::kNone) std::abort();
        if (!error.empty() && error.find(" header has ") == std::string::npos) std::abort();
        return 0;
    }
    if (event.format == SecFormat::kNone || !error.empty()) std::abort();
    std::string json;
    {
        JsonWriter w(json);
        w.begin_object();
        write_sec_object(w, event);
        w.end_object();
    }
    if (json.size() <= 2) std::abort();
    // The ECS views must point into the event: writing them reads every byte (ASan checks).
    const SecEcs ecs = sec_ecs(event);
    for (std::string_view v :
         {ecs.source_ip, ecs.source_port, ecs.source_user, ecs.source_host, ecs.destination_ip,
          ecs.destination_port, ecs.destination_user, ecs.destination_host, ecs.event_action,
          ecs.network_protocol, ecs.network_transport, ecs.url_original, ecs.file_name,
          ecs.process_name, ecs.http_request_method}) {
        JsonWriter(json).string(v);
    }
    return 0;
}
