#include "syslog_event.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "ecs_version.hpp"
#include "cef_leef.hpp"
#include "format.hpp"
#include "json_writer.hpp"

namespace tapsift::event {
namespace {

std::string_view view(const uint8_t *payload, wire::Span s) {
    return {reinterpret_cast<const char *>(payload) + s.off, s.len};
}

void optional_string(JsonWriter &w, std::string_view key, std::string_view value) {
    if (value.empty()) return;
    w.key(key);
    w.string(value);
}

// RFC 5424 PARAM-VALUE escapes: \" \\ \] become the character; any other backslash is kept.
std::string unescape_param(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size() &&
            (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == ']')) {
            ++i;
        }
        out += v[i];
    }
    return out;
}

// The kernel has validated the STRUCTURED-DATA span's syntax; this expands it to
// {"sd-id": {"param": "value", ...}, ...}.
void write_structured_data(JsonWriter &w, std::string_view sd) {
    w.key("structured_data");
    w.begin_object();
    size_t i = 0;
    while (i < sd.size() && sd[i] == '[') {
        ++i;
        const size_t id_end = std::min(sd.find_first_of(" ]", i), sd.size());
        w.key(sd.substr(i, id_end - i));
        w.begin_object();
        i = id_end;
        while (i < sd.size() && sd[i] == ' ') {
            ++i;
            const size_t eq = sd.find('=', i);
            const size_t quote = sd.find('"', eq);
            if (eq == std::string_view::npos || quote == std::string_view::npos) break;
            const std::string_view name = sd.substr(i, eq - i);
            size_t j = quote + 1;
            while (j < sd.size() && sd[j] != '"') j += sd[j] == '\\' ? 2 : 1;
            j = std::min(j, sd.size());
            w.key(name);
            w.string(unescape_param(sd.substr(quote + 1, j - quote - 1)));
            i = j + 1;
        }
        w.end_object();
        i = std::min(sd.find(']', i), sd.size()) + 1;  // the element's closing bracket
    }
    w.end_object();
}

void write_notes(JsonWriter &w, uint16_t notes) {
    static const struct {
        uint16_t bit;
        const char *name;
    } kNotes[] = {
        {wire::kNoteNoPri, "no_pri"},
        {wire::kNoteNoTimestamp, "no_timestamp"},
        {wire::kNoteYearInferred, "year_inferred"},
        {wire::kNoteBadStructuredData, "bad_structured_data"},
        {wire::kNoteTruncated, "truncated"},
        {wire::kNoteClockUnsynced, "clock_unsynced"},
    };
    if (notes == 0) return;
    std::string joined;
    for (const auto &n : kNotes) {
        if (notes & n.bit) joined += joined.empty() ? n.name : fmt::format(",{}", n.name);
    }
    w.key("notes");
    w.string(joined);
}

// The parts of a Cisco message code ("%LINK-3-UPDOWN", or IOS XR's "%PKT_INFRA-LINK-3-UPDOWN"),
// which the kernel checked: the facility is all before the severity digit.
struct CiscoCode {
    std::string_view facility;
    std::string_view mnemonic;
};

CiscoCode cisco_code(std::string_view tag) {
    const size_t last = tag.rfind('-');
    if (tag.size() < 2 || tag.front() != '%' || last == std::string_view::npos || last < 3) {
        return {};
    }
    return {tag.substr(1, last - 3), tag.substr(last + 1)};
}

// cisco.ios.*, named as Elastic's cisco_ios integration names them; the sender's sequence
// number goes here because event.sequence is tapsift's own.
void write_cisco(JsonWriter &w, const uint8_t *payload, const wire::Descriptor &d) {
    const CiscoCode code = cisco_code(view(payload, d.appname));
    w.key("cisco");
    w.begin_object();
    w.key("ios");
    w.begin_object();
    if (d.has_sender_sequence) {
        w.key("sequence");
        w.number(static_cast<int64_t>(d.sender_sequence));
    }
    optional_string(w, "facility", code.facility);
    w.end_object();
    w.end_object();
}

const char *format_name(uint8_t format) {
    switch (static_cast<wire::SyslogFormat>(format)) {
        case wire::SyslogFormat::kRfc5424:
            return "rfc5424";
        case wire::SyslogFormat::kCiscoIos:
            return "cisco_ios";
        default:
            return "rfc3164";
    }
}

// A CEF/LEEF port as a number, or -1 when the text is not one.
int64_t port_number(std::string_view text) {
    if (text.empty() || text.size() > 5) return -1;
    int64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v <= 65535 ? v : -1;
}

void port_value(JsonWriter &w, std::string_view text) {
    w.number(port_number(text));
}

bool is_address(std::string_view text) {
    char buf[INET6_ADDRSTRLEN] = {};
    unsigned char bytes[16];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    return inet_pton(AF_INET, buf, bytes) == 1 || inet_pton(AF_INET6, buf, bytes) == 1;
}

// Elasticsearch refuses a whole document whose ip or port field does not parse ("src=N/A",
// "spt=componentName" are real): such values stay under cef.* / leef.* only.
SecEcs valid_ecs(SecEcs e) {
    if (!is_address(e.source_ip)) e.source_ip = {};
    if (!is_address(e.destination_ip)) e.destination_ip = {};
    if (port_number(e.source_port) < 0) e.source_port = {};
    if (port_number(e.destination_port) < 0) e.destination_port = {};
    return e;
}

// ECS fields with an obvious CEF/LEEF source, each object written once (source is the sender's
// unless the CEF/LEEF payload names one; then the sender goes to log.source.address).
void write_sec_ecs(JsonWriter &w, const SecEcs &e) {
    if (!e.destination_ip.empty() || !e.destination_port.empty() || !e.destination_user.empty() ||
        !e.destination_host.empty()) {
        w.key("destination");
        w.begin_object();
        optional_string(w, "ip", e.destination_ip);
        if (!e.destination_port.empty()) {
            w.key("port");
            port_value(w, e.destination_port);
        }
        optional_string(w, "domain", e.destination_host);
        if (!e.destination_user.empty()) {
            w.key("user");
            w.begin_object();
            w.key("name");
            w.string(e.destination_user);
            w.end_object();
        }
        w.end_object();
    }
    if (!e.network_protocol.empty() || !e.network_transport.empty()) {
        // ECS keeps these lowercase ("https", "tcp"); devices send "HTTPS", "TCP".
        const auto lower = [](std::string_view v) {
            std::string s(v);
            for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return s;
        };
        w.key("network");
        w.begin_object();
        optional_string(w, "protocol", lower(e.network_protocol));
        optional_string(w, "transport", lower(e.network_transport));
        w.end_object();
    }
    const struct {
        const char *object, *field;
        std::string_view value;
    } kSingles[] = {{"url", "original", e.url_original},
                    {"file", "name", e.file_name},
                    {"process", "name", e.process_name}};
    for (const auto &f : kSingles) {
        if (f.value.empty()) continue;
        w.key(f.object);
        w.begin_object();
        w.key(f.field);
        w.string(f.value);
        w.end_object();
    }
    if (!e.http_request_method.empty()) {
        w.key("http");
        w.begin_object();
        w.key("request");
        w.begin_object();
        w.key("method");
        w.string(e.http_request_method);
        w.end_object();
        w.end_object();
    }
}

}  // namespace

std::string_view cef_leef_text(const uint8_t *payload, const wire::Descriptor &d) {
    const bool from_tag = d.format == static_cast<uint8_t>(wire::SyslogFormat::kRfc3164) &&
                          d.appname.len > 0 && d.appname.off < d.message.off;
    const uint16_t start = from_tag ? d.appname.off : d.message.off;
    return {reinterpret_cast<const char *>(payload) + start,
            static_cast<size_t>(d.message.off + d.message.len - start)};
}

const char *facility_name(int facility) {
    static const char *const kNames[24] = {
        "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
        "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
        "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
    return facility >= 0 && facility < 24 ? kNames[facility] : "unknown";
}

const char *severity_name(int severity) {
    static const char *const kNames[8] = {"emerg",   "alert",  "crit", "err",
                                          "warning", "notice", "info", "debug"};
    return severity >= 0 && severity < 8 ? kNames[severity] : "unknown";
}

AssembledEvent assemble_syslog_event(const wire::IngestRecordHeader &rec,
                                     std::string_view source_ip, const uint8_t *payload,
                                     const wire::Descriptor &d, const EventContext &ctx,
                                     const EventAnnotations *annotations, std::string &out) {
    out.clear();
    const SecEvent *sec = annotations ? annotations->sec : nullptr;
    const SecEcs ecs = sec ? valid_ecs(sec_ecs(*sec)) : SecEcs{};
    const bool sec_source = !ecs.source_ip.empty();
    JsonWriter w(out);
    w.begin_object();
    w.key("@timestamp");
    w.plain_string(timestamp_text(d.timestamp_ns).view());
    write_ecs_version(w);
    w.key("message");
    w.string(view(payload, d.message));

    w.key("log");
    w.begin_object();
    w.key("syslog");
    w.begin_object();
    w.key("priority");
    w.number(d.priority);
    w.key("facility");
    w.begin_object();
    w.key("code");
    w.number(d.priority >> 3);
    w.key("name");
    w.string(facility_name(d.priority >> 3));
    w.end_object();
    w.key("severity");
    w.begin_object();
    w.key("code");
    w.number(d.priority & 7);
    w.key("name");
    w.string(severity_name(d.priority & 7));
    w.end_object();
    optional_string(w, "hostname", view(payload, d.hostname));
    optional_string(w, "appname", view(payload, d.appname));
    optional_string(w, "procid", view(payload, d.procid));
    optional_string(w, "msgid", view(payload, d.msgid));
    if (d.format == static_cast<uint8_t>(wire::SyslogFormat::kRfc5424)) {
        w.key("version");
        const fmt::format_int version(d.version);
        w.string(std::string_view(version.data(), version.size()));
    }
    if (d.structured_data.len > 0) write_structured_data(w, view(payload, d.structured_data));
    w.end_object();
    if (sec_source) {
        w.key("source");
        w.begin_object();
        w.key("address");
        w.string(fmt::format("{}:{}", source_ip, rec.src_port));
        w.end_object();
    }
    w.end_object();

    w.key("source");
    w.begin_object();
    w.key("ip");
    w.string(sec_source ? ecs.source_ip : source_ip);
    if (!sec_source) {
        w.key("port");
        w.number(rec.src_port);
    } else if (!ecs.source_port.empty()) {
        w.key("port");
        port_value(w, ecs.source_port);
    }
    optional_string(w, "domain", ecs.source_host);
    if (!ecs.source_user.empty()) {
        w.key("user");
        w.begin_object();
        w.key("name");
        w.string(ecs.source_user);
        w.end_object();
    }
    w.end_object();
    write_sec_ecs(w, ecs);

    w.key("observer");
    w.begin_object();
    w.key("hostname");
    w.string(ctx.observer_hostname);
    w.key("type");
    w.string("gateway");
    w.key("product");
    w.string("tapsift");
    w.end_object();

    w.key("event");
    w.begin_object();
    const size_t event_fields_at = w.size();
    optional_string(w, "action", ecs.event_action);
    w.key("kind");
    w.string(annotations && !annotations->threats.empty() ? "alert" : "event");
    w.key("dataset");
    w.string("syslog");
    w.key("created");
    w.string(ctx.created);
    w.key("sequence");
    w.number(static_cast<int64_t>(rec.packet_seq));
    const bool cisco = d.format == static_cast<uint8_t>(wire::SyslogFormat::kCiscoIos);
    if (cisco) optional_string(w, "code", cisco_code(view(payload, d.appname)).mnemonic);
    w.end_object();
    if (cisco) write_cisco(w, payload, d);

    if (sec) write_sec_object(w, *sec);
    if (annotations) write_tags_and_threats(w, *annotations);

    w.key("tapsift");
    w.begin_object();
    const size_t tapsift_fields_at = w.size();
    w.key("format");
    w.string(format_name(d.format));
    write_notes(w, d.notes);
    if (annotations && !annotations->rule.empty()) {
        w.key("rule");
        w.string(annotations->rule);
    }
    w.end_object();
    w.end_object();
    return AssembledEvent{w.had_invalid_utf8(), event_fields_at, tapsift_fields_at};
}

}  // namespace tapsift::event
