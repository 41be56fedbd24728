// CEF (ArcSight Common Event Format) and LEEF (IBM QRadar Log Event Extended Format) payloads
// found inside a syslog message: the header, and the key=value extensions with their escapes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tapsift::event {

enum class SecFormat { kNone, kCef, kLeef };

struct SecEvent {
    SecFormat format = SecFormat::kNone;
    int version = 0;  // CEF 0 or 1; LEEF 1 or 2
    // Header fields, unescaped. CEF: deviceVendor, deviceProduct, deviceVersion,
    // deviceEventClassId, name, severity. LEEF: vendor, product, version, eventId
    // (name and severity stay empty).
    std::string vendor, product, device_version, event_class_id, name, severity;
    // In message order, unescaped; a repeated key stays repeated (the last one counts).
    std::vector<std::pair<std::string, std::string>> extensions;

    // A header field by its name in the event's format (CEF: deviceVendor, deviceProduct,
    // deviceVersion, deviceEventClassId, name, severity; LEEF: vendor, product, version,
    // eventId), else the last extension with that key; nullptr when absent.
    const std::string *field(std::string_view key) const;
};

// Looks for "CEF:" or "LEEF:" in message (a syslog header or a vendor prefix may precede it)
// and parses what follows. False when there is none, or the header is incomplete; then
// *error (when given) says why, or stays empty when the message simply is not CEF/LEEF.
// On false only out.format (kNone) is meaningful. Reusing one SecEvent across calls reuses its
// strings' buffers.
bool parse_cef_leef(std::string_view message, SecEvent &out, std::string *error = nullptr);

class JsonWriter;

// Writes the cef.* or leef.* object (every header field and extension, under its own name; of
// a repeated extension key only the last value); nothing for SecFormat::kNone. The ECS-mapped
// fields (source.ip, destination.port, ...) are written by the event assembly, through sec_ecs()
// below, so that one JSON object is not opened twice.
void write_sec_object(JsonWriter &w, const SecEvent &e);

// ECS values with an obvious CEF/LEEF source: src/dst, spt/dpt, suser/duser, act, ...
// (the full table is in cef_leef.cpp). Empty when the event does not carry it. Views into e,
// as sent: network_protocol/network_transport are not lower-cased here.
struct SecEcs {
    std::string_view source_ip, source_port, source_user, source_host;
    std::string_view destination_ip, destination_port, destination_user, destination_host;
    std::string_view event_action, network_protocol, network_transport, url_original;
    std::string_view file_name, process_name, http_request_method;
};
SecEcs sec_ecs(const SecEvent &e);

}  // namespace tapsift::event
