// CEF and LEEF: finding the header inside a syslog message, its fields and escapes, the
// extensions, the cef/leef JSON object and the ECS values with an obvious source.
//
// What is unescaped (CEF Implementation Standard; LEEF 1.0/2.0 guides):
//   CEF header       "\|" -> "|", "\\" -> "\"
//   CEF extension    "\=" -> "=", "\\" -> "\", "\n" -> LF, "\r" -> CR
//   LEEF header      as the CEF header
//   LEEF attribute   nothing: the guides define no escape there
// Any other backslash stays as it is (jcustenborder/cef-parser's corpus expects "a \ in packet").
//
// ECS mapping (sec_ecs; the last extension with a listed key wins):
//
//   SecEcs               CEF keys (short, full name)              LEEF keys (predefined)
//   source_ip            src, sourceAddress                       src
//   source_port          spt, sourcePort                          srcPort
//   source_user          suser, sourceUserName                    usrName
//   source_host          shost, sourceHostName
//   destination_ip       dst, destinationAddress                  dst
//   destination_port     dpt, destinationPort                     dstPort
//   destination_user     duser, destinationUserName
//   destination_host     dhost, destinationHostName
//   event_action         act, deviceAction
//   network_protocol     app, applicationProtocol
//   network_transport    proto, transportProtocol                 proto
//   url_original         request, requestUrl                      url
//   file_name            fname, fileName
//   process_name         sproc, sourceProcessName
//   http_request_method  requestMethod
#include "cef_leef.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <numeric>

#include "json_writer.hpp"

namespace tapsift::event {
namespace {

constexpr size_t kNpos = std::string_view::npos;

// CEF extension keys: [A-Za-z0-9_.[]-]+ (custom keys such as "ad.field[0]" included).
constexpr std::array<bool, 256> kKeyChar = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = t[c + ('a' - 'A')] = true;
    for (unsigned char c : std::string_view("_.[]-")) t[c] = true;
    return t;
}();

// Reads one header field starting at pos: up to the next '|' that is not escaped, unescaping
// "\|" and "\\" into out. True when a '|' ended the field (pos is then past it), false when the
// text did (pos == text.size()).
bool header_field(std::string_view text, size_t &pos, std::string &out) {
    out.clear();
    size_t run = pos;  // start of the bytes not yet copied
    for (; pos < text.size(); ++pos) {
        const char c = text[pos];
        if (c == '|') {
            out.append(text, run, pos - run);
            ++pos;
            return true;
        }
        if (c == '\\' && pos + 1 < text.size() && (text[pos + 1] == '|' || text[pos + 1] == '\\')) {
            out.append(text, run, pos - run);
            run = ++pos;  // the escaped byte is copied with the next run
        }
    }
    out.append(text, run, pos - run);
    return false;
}

// Length of the key when "key=" starts at pos, else 0.
size_t cef_key_length(std::string_view text, size_t pos) {
    size_t i = pos;
    while (i < text.size() && kKeyChar[static_cast<uint8_t>(text[i])]) ++i;
    return i > pos && i < text.size() && text[i] == '=' ? i - pos : 0;
}

// Position of the SP of the next " key=" at or after from, or text.size(). Linear: a key scan
// stops at the next SP at the latest, where the search goes on.
size_t next_cef_key(std::string_view text, size_t from) {
    for (size_t sp = text.find(' ', from); sp != kNpos; sp = text.find(' ', sp + 1)) {
        if (cef_key_length(text, sp + 1) > 0) return sp;
    }
    return text.size();
}

void unescape_cef_value(std::string_view v, std::string &out) {
    out.clear();
    size_t run = 0;
    for (size_t i = v.find('\\'); i != kNpos && i + 1 < v.size(); i = v.find('\\', i)) {
        char replacement;
        switch (v[i + 1]) {
            case '\\':
            case '=':
                replacement = v[i + 1];
                break;
            case 'n':
                replacement = '\n';
                break;
            case 'r':
                replacement = '\r';
                break;
            default:
                ++i;
                continue;
        }
        out.append(v, run, i - run);
        out += replacement;
        i += 2;
        run = i;
    }
    out.append(v, run, v.size() - run);
}

// Hands out the extension slots in order, reusing the strings already there; the slots not
// handed out are dropped at the end.
class ExtensionFiller {
  public:
    explicit ExtensionFiller(std::vector<std::pair<std::string, std::string>> &v) : v_(v) {}
    ~ExtensionFiller() { v_.resize(n_); }
    std::pair<std::string, std::string> &next() {
        if (n_ == v_.size()) v_.emplace_back();
        return v_[n_++];
    }

  private:
    std::vector<std::pair<std::string, std::string>> &v_;
    size_t n_ = 0;
};

// key=value pairs separated by SP; a value runs to the next " key=" (an '=' in a value is sent
// as "\="), less trailing SPs. Text before the first key is skipped.
void parse_cef_extensions(std::string_view text, SecEvent &out) {
    ExtensionFiller fill(out.extensions);
    size_t pos = text.find_first_not_of(' ');
    if (pos == kNpos) return;
    if (cef_key_length(text, pos) == 0) pos = next_cef_key(text, pos) + 1;
    while (pos < text.size()) {
        const size_t key_len = cef_key_length(text, pos);
        const size_t value_begin = pos + key_len + 1;
        const size_t sp = next_cef_key(text, value_begin);
        size_t value_end = sp;
        while (value_end > value_begin && text[value_end - 1] == ' ') --value_end;
        auto &[key, value] = fill.next();
        key.assign(text, pos, key_len);
        unescape_cef_value(text.substr(value_begin, value_end - value_begin), value);
        pos = sp + 1;
    }
}

// The LEEF 2.0 delimiter field: one character, or its code as xHH / 0xHH; empty means TAB.
bool leef_delimiter(std::string_view field, char &delimiter) {
    if (field.empty()) {
        delimiter = '\t';
        return true;
    }
    if (field.size() == 1) {
        delimiter = field[0];
        return true;
    }
    if (field.size() > 2 && field[0] == '0' && (field[1] == 'x' || field[1] == 'X')) {
        field.remove_prefix(1);
    }
    if (field.size() < 2 || field.size() > 3 || (field[0] != 'x' && field[0] != 'X')) return false;
    unsigned code = 0;
    for (char c : field.substr(1)) {
        const int digit = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;
        if (digit < 0) return false;
        code = code * 16 + static_cast<unsigned>(digit);
    }
    delimiter = static_cast<char>(code);
    return true;
}

// key=value attributes separated by delimiter, values as sent. Empty pieces (a trailing
// delimiter) and pieces without a key are skipped.
void parse_leef_attributes(std::string_view text, char delimiter, SecEvent &out) {
    ExtensionFiller fill(out.extensions);
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(delimiter, pos);
        if (end == kNpos) end = text.size();
        const std::string_view piece = text.substr(pos, end - pos);
        const size_t eq = piece.find('=');
        if (eq != kNpos && eq > 0) {
            auto &[key, value] = fill.next();
            key.assign(piece, 0, eq);
            value.assign(piece, eq + 1);
        }
        pos = end + 1;
    }
}

bool header_error(std::string *error, std::string_view format, size_t have, size_t need) {
    if (error) *error = fmt::format("{} header has {} of {} fields", format, have, need);
    return false;
}

// body: what follows "CEF:<version>|".
bool parse_cef(std::string_view body, int version, SecEvent &out, std::string *error) {
    std::string *const fields[] = {&out.vendor,         &out.product, &out.device_version,
                                   &out.event_class_id, &out.name,    &out.severity};
    size_t pos = 0;
    bool closed = true;
    for (size_t i = 0; i < std::size(fields); ++i) {
        if (!closed) return header_error(error, "CEF", i + 1, std::size(fields) + 1);
        closed = header_field(body, pos, *fields[i]);
    }
    parse_cef_extensions(closed ? body.substr(pos) : std::string_view(), out);
    out.format = SecFormat::kCef;
    out.version = version;
    return true;
}

// body: what follows "LEEF:<version>|".
bool parse_leef(std::string_view body, int version, SecEvent &out, std::string *error) {
    std::string *const fields[] = {&out.vendor, &out.product, &out.device_version,
                                   &out.event_class_id};
    size_t pos = 0;
    bool closed = true;
    for (size_t i = 0; i < std::size(fields); ++i) {
        if (!closed) return header_error(error, "LEEF", i + 1, std::size(fields) + 1);
        closed = header_field(body, pos, *fields[i]);
    }
    out.name.clear();
    out.severity.clear();
    std::string_view attributes = closed ? body.substr(pos) : std::string_view();
    char delimiter = '\t';
    // LEEF 2.0's delimiter field is optional: it is there when what precedes the next '|' (or
    // the end) reads as one.
    if (version == 2) {
        const size_t bar = attributes.find('|');
        if (leef_delimiter(attributes.substr(0, bar), delimiter)) {
            attributes.remove_prefix(bar == kNpos ? attributes.size() : bar + 1);
        }
    }
    parse_leef_attributes(attributes, delimiter, out);
    out.format = SecFormat::kLeef;
    out.version = version;
    return true;
}

// "1.0|", "1|", "2.0|" or "2|" at text's start: the version, and len the bytes before the '|'.
int leef_version(std::string_view text, size_t &len) {
    if (text.size() < 2 || (text[0] != '1' && text[0] != '2')) return 0;
    len = text.compare(1, 3, ".0|") == 0 ? 3 : 1;
    return text.size() > len && text[len] == '|' ? text[0] - '0' : 0;
}

struct EcsKey {
    std::string_view key;
    std::string_view SecEcs::*field;
};

constexpr EcsKey kCefEcs[] = {
    {"src", &SecEcs::source_ip},
    {"sourceAddress", &SecEcs::source_ip},
    {"spt", &SecEcs::source_port},
    {"sourcePort", &SecEcs::source_port},
    {"suser", &SecEcs::source_user},
    {"sourceUserName", &SecEcs::source_user},
    {"shost", &SecEcs::source_host},
    {"sourceHostName", &SecEcs::source_host},
    {"dst", &SecEcs::destination_ip},
    {"destinationAddress", &SecEcs::destination_ip},
    {"dpt", &SecEcs::destination_port},
    {"destinationPort", &SecEcs::destination_port},
    {"duser", &SecEcs::destination_user},
    {"destinationUserName", &SecEcs::destination_user},
    {"dhost", &SecEcs::destination_host},
    {"destinationHostName", &SecEcs::destination_host},
    {"act", &SecEcs::event_action},
    {"deviceAction", &SecEcs::event_action},
    {"app", &SecEcs::network_protocol},
    {"applicationProtocol", &SecEcs::network_protocol},
    {"proto", &SecEcs::network_transport},
    {"transportProtocol", &SecEcs::network_transport},
    {"request", &SecEcs::url_original},
    {"requestUrl", &SecEcs::url_original},
    {"fname", &SecEcs::file_name},
    {"fileName", &SecEcs::file_name},
    {"sproc", &SecEcs::process_name},
    {"sourceProcessName", &SecEcs::process_name},
    {"requestMethod", &SecEcs::http_request_method},
};

constexpr EcsKey kLeefEcs[] = {
    {"src", &SecEcs::source_ip},
    {"srcPort", &SecEcs::source_port},
    {"usrName", &SecEcs::source_user},
    {"dst", &SecEcs::destination_ip},
    {"dstPort", &SecEcs::destination_port},
    {"proto", &SecEcs::network_transport},
    {"url", &SecEcs::url_original},
};

// shadowed[i] when a later extension has the same key: JSON readers disagree on repeated keys,
// so only the last one (the one field() returns) is written. Sorting keeps a message with many
// keys linear-logarithmic; the scratch vectors are kept per thread.
const std::vector<uint8_t> &shadowed_extensions(const SecEvent &e) {
    thread_local std::vector<uint32_t> order;
    thread_local std::vector<uint8_t> shadowed;
    const auto &ext = e.extensions;
    order.resize(ext.size());
    std::iota(order.begin(), order.end(), 0U);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        const int c = ext[a].first.compare(ext[b].first);
        return c < 0 || (c == 0 && a < b);
    });
    shadowed.assign(ext.size(), 0);
    for (size_t k = 0; k + 1 < order.size(); ++k) {
        if (ext[order[k]].first == ext[order[k + 1]].first) shadowed[order[k]] = 1;
    }
    return shadowed;
}

}  // namespace

const std::string *SecEvent::field(std::string_view key) const {
    if (format == SecFormat::kCef) {
        if (key == "deviceVendor") return &vendor;
        if (key == "deviceProduct") return &product;
        if (key == "deviceVersion") return &device_version;
        if (key == "deviceEventClassId") return &event_class_id;
        if (key == "name") return &name;
        if (key == "severity") return &severity;
    } else if (format == SecFormat::kLeef) {
        if (key == "vendor") return &vendor;
        if (key == "product") return &product;
        if (key == "version") return &device_version;
        if (key == "eventId") return &event_class_id;
    }
    for (auto it = extensions.rbegin(); it != extensions.rend(); ++it) {
        if (it->first == key) return &it->second;
    }
    return nullptr;
}

bool parse_cef_leef(std::string_view message, SecEvent &out, std::string *error) {
    out.format = SecFormat::kNone;
    out.version = 0;
    if (error) error->clear();
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
        message.remove_suffix(1);
    }
    // The first "CEF:" or "LEEF:" followed by a version we know: a prefix may mention either.
    for (size_t at = message.find("EF:"); at != kNpos; at = message.find("EF:", at + 1)) {
        const std::string_view rest = message.substr(at + 3);
        if (at >= 1 && message[at - 1] == 'C') {
            if (rest.size() >= 2 && (rest[0] == '0' || rest[0] == '1') && rest[1] == '|') {
                return parse_cef(rest.substr(2), rest[0] - '0', out, error);
            }
        } else if (at >= 2 && message[at - 2] == 'L' && message[at - 1] == 'E') {
            size_t len = 0;
            if (const int version = leef_version(rest, len)) {
                return parse_leef(rest.substr(len + 1), version, out, error);
            }
        }
    }
    return false;
}

void write_sec_object(JsonWriter &w, const SecEvent &e) {
    if (e.format == SecFormat::kNone) return;
    const bool cef = e.format == SecFormat::kCef;
    w.key(cef ? "cef" : "leef");
    w.begin_object();
    w.key("version");
    w.number(e.version);
    w.key("device");
    w.begin_object();
    w.key("vendor");
    w.string(e.vendor);
    w.key("product");
    w.string(e.product);
    w.key("version");
    w.string(e.device_version);
    w.key("event_class_id");
    w.string(e.event_class_id);
    w.end_object();
    if (cef) {
        w.key("name");
        w.string(e.name);
        w.key("severity");
        w.string(e.severity);
    }
    w.key("extensions");
    w.begin_object();
    const std::vector<uint8_t> &shadowed = shadowed_extensions(e);
    for (size_t i = 0; i < e.extensions.size(); ++i) {
        if (shadowed[i]) continue;
        w.key(e.extensions[i].first);
        w.string(e.extensions[i].second);
    }
    w.end_object();
    w.end_object();
}

SecEcs sec_ecs(const SecEvent &e) {
    SecEcs ecs;
    const EcsKey *begin = nullptr, *end = nullptr;
    if (e.format == SecFormat::kCef) {
        begin = std::begin(kCefEcs);
        end = std::end(kCefEcs);
    } else if (e.format == SecFormat::kLeef) {
        begin = std::begin(kLeefEcs);
        end = std::end(kLeefEcs);
    }
    for (const auto &ext : e.extensions) {
        const EcsKey *m =
            std::find_if(begin, end, [&](const EcsKey &k) { return k.key == ext.first; });
        if (m != end) ecs.*(m->field) = ext.second;
    }
    return ecs;
}

}  // namespace tapsift::event
