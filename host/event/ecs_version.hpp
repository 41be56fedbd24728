// The ECS version every event follows ("ecs": {"version": ...}), as Beats write it, so Elastic
// and Splunk's ECS mappings know which field definitions apply. tapsift's fields follow the
// ECS 8.11 field reference (https://www.elastic.co/guide/en/ecs/8.11/ecs-field-reference.html).
#pragma once

#include <string_view>

#include "event/json_writer.hpp"

namespace tapsift::event {

inline constexpr std::string_view kEcsVersion = "8.11.0";

inline void write_ecs_version(JsonWriter &w) {
    w.key("ecs");
    w.begin_object();
    w.key("version");
    w.plain_string(kEcsVersion);
    w.end_object();
}

}  // namespace tapsift::event
