#include "event/annotations.hpp"

#include "event/json_writer.hpp"

namespace tapsift::event {
namespace {

void optional(JsonWriter &w, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    w.key(key);
    w.string(value);
}

}  // namespace

void write_tags_and_threats(JsonWriter &w, const EventAnnotations &a) {
    if (!a.tags.empty()) {
        w.key("tags");
        w.begin_array();
        for (const std::string_view t : a.tags) w.string(t);
        w.end_array();
    }
    if (a.threats.empty()) return;
    w.key("threat");
    w.begin_object();
    w.key("enrichments");
    w.begin_array();
    for (const ThreatMatch &m : a.threats) {
        w.begin_object();
        w.key("indicator");
        w.begin_object();
        // ECS types indicator.ip as one address: the address that matched goes there, and the
        // listed entry (a network or an address) is the indicator's name.
        w.key("ip");
        w.string(m.atomic);
        w.key("name");
        w.string(m.indicator);
        optional(w, "type", m.type);
        optional(w, "provider", m.provider);
        optional(w, "description", m.description);
        optional(w, "reference", m.reference);
        w.end_object();
        w.key("matched");
        w.begin_object();
        w.key("atomic");
        w.string(m.atomic);
        w.key("field");
        w.string(m.field);
        w.key("type");
        w.string("indicator_match_rule");
        w.end_object();
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace tapsift::event
