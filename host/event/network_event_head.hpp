// The ECS event.* fields every network event (flow record, sFlow sample, aggregate) opens with:
// kind, category [network], type [type], action and dataset. The caller has opened "event" and
// goes on with its own fields.
#pragma once

#include <string_view>

#include "event/json_writer.hpp"

namespace tapsift::event {

inline void write_network_event_head(JsonWriter &w, std::string_view kind, std::string_view type,
                                     std::string_view action, std::string_view dataset) {
    w.key("kind");
    w.string(kind);
    w.key("category");
    w.begin_array();
    w.string("network");
    w.end_array();
    w.key("type");
    w.begin_array();
    w.string(type);
    w.end_array();
    w.key("action");
    w.string(action);
    w.key("dataset");
    w.string(dataset);
}

}  // namespace tapsift::event
