// What sifting adds to an event: CEF/LEEF fields, tags, threat-intel matches (ECS
// threat.enrichments) and the deciding rule. Views into data that outlives the event's assembly.
#pragma once

#include <string_view>
#include <vector>

namespace tapsift::event {

struct SecEvent;
class JsonWriter;

struct ThreatMatch {
    std::string_view atomic;  // the address that matched, as events print it
    std::string_view field;   // source.ip | destination.ip | message
    std::string_view indicator, type, provider, description, reference;
};

struct EventAnnotations {
    const SecEvent *sec = nullptr;
    std::vector<std::string_view> tags;
    std::vector<ThreatMatch> threats;
    std::string_view rule;  // the deciding rule's id; empty when none decided

    void clear() {
        sec = nullptr;
        tags.clear();
        threats.clear();
        rule = {};
    }
};

// "tags": [...], "threat": {"enrichments": [...]}, and tapsift.rule is written by the caller.
void write_tags_and_threats(JsonWriter &w, const EventAnnotations &a);

}  // namespace tapsift::event
