// Threat-intel indicators: the plain-text and MISP CSV readers, the exact longest-prefix set and
// the kernel filter builder.
//
// The exact set is one open-addressing table over all prefix lengths, keyed by the kernel's own
// key hash (family, length, masked address); a lookup tries each length in use, longest first,
// as the kernel does. Slots are 8 bytes (index + 32 hash bits), so 1,000,000 indicators cost
// 16 MiB of table next to the Indicator records themselves.
#include "sift/ioc_set.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <string_view>

#include "prefilter/ioc_filter.hpp"

namespace tapsift::sift {
namespace {

using Addr = std::array<uint8_t, 16>;

struct Prefix {
    Addr addr;    // masked to len
    uint8_t len;  // of its family: 0..32 for IPv4, 0..128 for IPv6
    bool v4;
};

bool same_prefix(const Prefix &a, const Prefix &b) {
    return a.len == b.len && a.v4 == b.v4 && a.addr == b.addr;
}

uint32_t bits_of(bool v4, uint32_t len) {
    return v4 ? 96 + len : len;
}

void mask_to(Addr &a, uint32_t bits) {
    for (uint32_t i = 0; i < 16; ++i) {
        if (bits >= 8 * (i + 1)) continue;
        const uint32_t keep = bits > 8 * i ? bits - 8 * i : 0;
        a[i] &= static_cast<uint8_t>(0xff00u >> keep);
    }
}

uint64_t key_hash(const Prefix &p) {
    return hls_kernels::ioc_key_hash(p.addr.data(), p.v4, p.len);
}

void set_length(uint64_t *lengths, uint32_t len) {
    lengths[len / 64] |= uint64_t{1} << (len % 64);
}

bool has_length(const uint64_t *lengths, uint32_t len) {
    return ((lengths[len / 64] >> (len % 64)) & 1) != 0;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n\f\v";
    const size_t b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// Quoted in an error: a fuzzed or binary line is cut short.
std::string quoted(std::string_view text) {
    constexpr size_t kMax = 80;
    if (text.size() <= kMax) return "'" + std::string(text) + "'";
    return "'" + std::string(text.substr(0, kMax)) + "...'";
}

std::string format_prefix(const Prefix &p) {
    char buf[INET6_ADDRSTRLEN];
    if (p.v4) {
        inet_ntop(AF_INET, p.addr.data() + 12, buf, sizeof buf);
        return p.len == 32 ? buf : std::string(buf) + "/" + std::to_string(p.len);
    }
    inet_ntop(AF_INET6, p.addr.data(), buf, sizeof buf);
    return p.len == 128 ? buf : std::string(buf) + "/" + std::to_string(p.len);
}

// "192.0.2.1", "192.0.2.0/24", "2001:db8::/32". IPv6 text of an IPv4-mapped address is IPv4
// when the length covers the ::ffff: prefix ("::ffff:192.0.2.0/120" is 192.0.2.0/24).
// On failure, why completes "FILE:LINE: ".
bool parse_prefix(std::string_view text, Prefix &out, std::string &why) {
    const size_t slash = text.find('/');
    if (!parse_address(std::string(text.substr(0, slash)), out.addr)) {
        why = quoted(text) + " is not an IP address or CIDR";
        return false;
    }
    out.v4 = hls_kernels::is_v4_mapped(out.addr.data());
    const bool v6_text = text.substr(0, slash).find(':') != std::string_view::npos;
    uint32_t len = out.v4 && !v6_text ? 32 : 128;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const uint32_t max = len;
        len = 0;
        bool ok = !digits.empty() && digits.size() <= 3;
        for (char c : digits) {
            ok = ok && c >= '0' && c <= '9';
            len = len * 10 + static_cast<uint32_t>(c - '0');
        }
        if (!ok || len > max) {
            why = quoted(text) + " is not an IP address or CIDR (the prefix length must be 0.." +
                  std::to_string(max) + ")";
            return false;
        }
    }
    if (out.v4 && v6_text) {
        if (len < 96) {
            out.v4 = false;
        } else {
            len -= 96;
        }
    }
    out.len = static_cast<uint8_t>(len);
    Addr net = out.addr;
    mask_to(net, bits_of(out.v4, len));
    if (net != out.addr) {
        out.addr = net;
        why = quoted(text) + " has host bits set (the network is " + format_prefix(out) + ")";
        return false;
    }
    return true;
}

// The file's name without directory and extension.
std::string stem(const std::string &name) {
    const size_t slash = name.find_last_of('/');
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    const size_t dot = base.find_last_of('.');
    if (dot != std::string::npos && dot > 0) base.resize(dot);
    return base;
}

// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
class CsvReader {
  public:
    CsvReader(std::string_view text, const std::string &name) : text_(text), name_(name) {}

    // The next record and the line it starts on; false at the end of the text.
    bool next(std::vector<std::string> &fields, uint32_t &line) {
        if (pos_ >= text_.size()) return false;
        fields.clear();
        line = line_;
        for (;;) {
            fields.emplace_back();
            std::string &f = fields.back();
            if (pos_ < text_.size() && text_[pos_] == '"') {
                read_quoted(f, line);
            } else {
                const size_t end = std::min(text_.find_first_of(",\n", pos_), text_.size());
                f.assign(text_.substr(pos_, end - pos_));
                pos_ = end;
            }
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < text_.size()) {  // '\n'
                ++pos_;
                ++line_;
            }
            if (!f.empty() && f.back() == '\r') f.pop_back();
            return true;
        }
    }

  private:
    void read_quoted(std::string &f, uint32_t line) {
        ++pos_;
        for (;;) {
            if (pos_ >= text_.size()) {
                throw IocError(name_ + ":" + std::to_string(line) + ": unterminated quoted field");
            }
            const char c = text_[pos_++];
            if (c == '"') {
                if (pos_ < text_.size() && text_[pos_] == '"') {
                    f += '"';
                    ++pos_;
                    continue;
                }
                break;
            }
            if (c == '\n') ++line_;
            f += c;
        }
        if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
        if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n') {
            throw IocError(name_ + ":" + std::to_string(line_) + ": text after a closing quote");
        }
    }

    std::string_view text_;
    const std::string &name_;
    size_t pos_ = 0;
    uint32_t line_ = 1;
};

int column(const std::vector<std::string> &header, std::string_view name) {
    for (size_t i = 0; i < header.size(); ++i) {
        if (trim(header[i]) == name) return static_cast<int>(i);
    }
    return -1;
}

struct Slot {
    uint32_t index_plus1;  // 0: empty
    uint32_t hash_hi;      // compared before the prefix itself
};

}  // namespace

bool parse_address(const std::string &text, std::array<uint8_t, 16> &out) {
    if (text.find('\0') != std::string::npos) return false;  // inet_pton would stop there
    uint8_t v4[4];
    if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
        out.fill(0);
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, text.c_str(), out.data()) == 1;
}

struct IocSet::Impl {
    std::vector<Indicator> indicators;
    std::vector<Prefix> prefixes;  // indicators[i]'s key
    std::vector<Slot> slots;       // a power of two, at most half full
    uint64_t v4_lengths[1] = {};
    uint64_t v6_lengths[3] = {};
    IocLoadStats stats;
    std::deque<std::string> names;  // file names and providers the indicators view (stable)

    // The index of the indicator with this key, or -1.
    int64_t find(const Prefix &key, uint64_t h) const {
        if (slots.empty()) return -1;
        const size_t mask = slots.size() - 1;
        for (size_t i = h & mask;; i = (i + 1) & mask) {
            const Slot &s = slots[i];
            if (s.index_plus1 == 0) return -1;
            if (s.hash_hi == static_cast<uint32_t>(h >> 32) &&
                same_prefix(prefixes[s.index_plus1 - 1], key)) {
                return s.index_plus1 - 1;
            }
        }
    }

    void place(uint64_t h, uint32_t index) {
        const size_t mask = slots.size() - 1;
        size_t i = h & mask;
        while (slots[i].index_plus1 != 0) i = (i + 1) & mask;
        slots[i] = Slot{index + 1, static_cast<uint32_t>(h >> 32)};
    }

    // Room for `count` keys at most half full, rehashing when the table grows.
    void reserve(size_t count) {
        if (2 * count <= slots.size()) return;
        size_t want = 16;
        while (want < 2 * count) want *= 2;
        slots.assign(want, Slot{0, 0});
        for (uint32_t i = 0; i < prefixes.size(); ++i) place(key_hash(prefixes[i]), i);
    }

    // False when the prefix is already present (the first one is kept).
    bool add(const Prefix &p, Indicator &&ind) {
        const uint64_t h = key_hash(p);
        if (find(p, h) >= 0) return false;
        reserve(prefixes.size() + 1);
        place(h, static_cast<uint32_t>(prefixes.size()));
        prefixes.push_back(p);
        indicators.push_back(std::move(ind));
        set_length(p.v4 ? v4_lengths : v6_lengths, p.len);
        return true;
    }

    // Back to the first `keep` indicators: a file that fails to load adds nothing.
    void truncate(size_t keep) {
        indicators.resize(keep);
        prefixes.resize(keep);
        std::fill(std::begin(v4_lengths), std::end(v4_lengths), 0);
        std::fill(std::begin(v6_lengths), std::end(v6_lengths), 0);
        std::fill(slots.begin(), slots.end(), Slot{0, 0});
        for (uint32_t i = 0; i < keep; ++i) {
            place(key_hash(prefixes[i]), i);
            set_length(prefixes[i].v4 ? v4_lengths : v6_lengths, prefixes[i].len);
        }
    }

    // Grows the vectors once per file (the line count bounds its indicators), geometrically, so
    // loading many small files stays linear.
    void expect(size_t more) {
        const size_t want = indicators.size() + more;
        if (want > indicators.capacity()) {
            const size_t cap = std::max(want, 2 * indicators.capacity());
            indicators.reserve(cap);
            prefixes.reserve(cap);
        }
        reserve(want);
    }

    void add_text(std::string_view text, std::string_view name, uint32_t line, Indicator &&ind) {
        Prefix p{};
        std::string why;
        if (!parse_prefix(text, p, why))
            throw IocError(std::string(name) + ":" + std::to_string(line) + ": " + why);
        ind.value = format_prefix(p);
        ind.type = p.v4 ? "ipv4-addr" : "ipv6-addr";
        ind.file = name;
        ind.line = line;
        if (add(p, std::move(ind))) {
            stats.indicators++;
        } else {
            stats.duplicates++;
        }
    }

    // The file's name and provider, kept for the indicators to view.
    std::pair<std::string_view, std::string_view> remember(const std::string &name) {
        names.push_back(name);
        const std::string_view file = names.back();
        names.push_back(stem(name));
        return {file, names.back()};
    }

    void load_plain(std::string_view text, const std::string &full_name) {
        const auto [name, provider] = remember(full_name);
        uint32_t line = 0;
        for (size_t pos = 0; pos < text.size();) {
            const size_t eol = std::min(text.find('\n', pos), text.size());
            const std::string_view raw = text.substr(pos, eol - pos);
            pos = eol + 1;
            ++line;
            // ';' too: the Spamhaus DROP lists comment with it.
            const size_t comment = raw.find_first_of("#;");
            const std::string_view body = trim(raw.substr(0, comment));
            if (body.empty()) continue;
            Indicator ind;
            ind.provider = provider;
            if (comment != std::string_view::npos) ind.description = trim(raw.substr(comment + 1));
            add_text(body, name, line, std::move(ind));
        }
    }

    void load_misp(std::string_view text, const std::string &full_name) {
        const auto [name, provider] = remember(full_name);
        CsvReader csv(text, full_name);
        std::vector<std::string> header, row;
        uint32_t line = 0;
        csv.next(header, line);
        const int type_col = column(header, "type");
        const int value_col = column(header, "value");
        const int uuid_col = column(header, "uuid");
        const int event_col = column(header, "event_id");
        const int comment_col = column(header, "comment");
        const size_t needed =
            static_cast<size_t>(std::max({type_col, value_col, uuid_col, event_col, comment_col})) +
            1;
        while (csv.next(row, line)) {
            if (row.size() == 1 && trim(row[0]).empty()) continue;
            if (row.size() < needed) {
                throw IocError(full_name + ":" + std::to_string(line) + ": " +
                               std::to_string(row.size()) + " fields, the header has " +
                               std::to_string(header.size()));
            }
            const std::string_view type = trim(row[type_col]);
            std::string_view value = trim(row[value_col]);
            if (type == "ip-src|port" || type == "ip-dst|port") {
                value = trim(value.substr(0, value.rfind('|')));
            } else if (type != "ip-src" && type != "ip-dst") {
                stats.skipped_non_ip++;
                continue;
            }
            Indicator ind;
            ind.provider = provider;
            if (comment_col >= 0) ind.description = trim(row[comment_col]);
            if (uuid_col >= 0 && event_col >= 0) {
                ind.reference = "misp:event/" + std::string(trim(row[event_col])) + "/attribute/" +
                                std::string(trim(row[uuid_col]));
            }
            add_text(value, name, line, std::move(ind));
        }
    }
};

IocSet::IocSet() : impl_(std::make_unique<Impl>()) {}
IocSet::~IocSet() = default;
IocSet::IocSet(IocSet &&) noexcept = default;
IocSet &IocSet::operator=(IocSet &&) noexcept = default;

void IocSet::load_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IocError(path + ": cannot open: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw IocError(path + ": cannot read: " + std::strerror(errno));
    load_text(text.str(), path);
}

void IocSet::load_text(const std::string &text, const std::string &name) {
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    const size_t keep = impl_->indicators.size();
    const IocLoadStats before = impl_->stats;
    try {
        impl_->expect(static_cast<size_t>(std::count(body.begin(), body.end(), '\n')) + 1);
        // MISP when the first line names "type" and "value" columns.
        const std::string_view first = body.substr(0, body.find('\n'));
        std::vector<std::string> header;
        uint32_t line = 0;
        bool misp = false;
        if (first.find(',') != std::string_view::npos) {
            try {
                CsvReader probe(first, name);
                probe.next(header, line);
                misp = column(header, "type") >= 0 && column(header, "value") >= 0;
            } catch (const IocError &) {
                // Not CSV: read as plain text, whose error names the line.
            }
        }
        if (misp) {
            impl_->load_misp(body, name);
        } else {
            impl_->load_plain(body, name);
        }
    } catch (...) {
        impl_->truncate(keep);
        impl_->stats = before;
        throw;
    }
}

const IocLoadStats &IocSet::stats() const {
    return impl_->stats;
}

size_t IocSet::size() const {
    return impl_->indicators.size();
}

const Indicator *IocSet::lookup(const uint8_t addr16[16]) const {
    Prefix q{};
    q.v4 = hls_kernels::is_v4_mapped(addr16);
    const uint64_t *lengths = q.v4 ? impl_->v4_lengths : impl_->v6_lengths;
    for (int len = q.v4 ? 32 : 128; len >= 0; --len) {
        if (!has_length(lengths, static_cast<uint32_t>(len))) continue;
        std::memcpy(q.addr.data(), addr16, 16);
        mask_to(q.addr, bits_of(q.v4, static_cast<uint32_t>(len)));
        q.len = static_cast<uint8_t>(len);
        const int64_t i = impl_->find(q, key_hash(q));
        if (i >= 0) return &impl_->indicators[static_cast<size_t>(i)];
    }
    return nullptr;
}

std::vector<uint64_t> IocSet::build_filter(uint32_t filter_bytes) const {
    constexpr uint32_t kMinBytes = 1u << (wire::kIocFilterMinBitsLog2 - 3);
    constexpr uint32_t kMaxBytes = 1u << (wire::kIocFilterMaxBitsLog2 - 3);
    if (filter_bytes < kMinBytes || filter_bytes > kMaxBytes ||
        (filter_bytes & (filter_bytes - 1)) != 0) {
        throw std::invalid_argument("IOC filter size " + std::to_string(filter_bytes) +
                                    " is not a power of two in " + std::to_string(kMinBytes) +
                                    ".." + std::to_string(kMaxBytes) + " bytes");
    }
    wire::IocFilterHeader h{};
    h.magic = wire::kIocFilterMagic;
    const uint64_t bits = uint64_t{filter_bytes} * 8;
    h.bits_log2 = static_cast<uint8_t>(__builtin_ctzll(bits));
    // Probes per key: (m/n) ln 2, the classic filter's optimum, within 1..kIocFilterMaxHashes.
    // The blocked filter's own optimum (minimising its expected rate, prefilter/ioc_filter.cpp)
    // is the same or differs by one below 12 bits per key (mostly one less: crowded blocks favour
    // fewer probes), and (m/n) ln 2 costs at most 3.1% more false positives there (at 10.8 b/k);
    // from 12 b/k on it is 8 or more, so the cap decides.
    const double n = static_cast<double>(std::max<size_t>(size(), 1));
    const double k = std::round(static_cast<double>(bits) / n * std::log(2.0));
    h.hashes = static_cast<uint8_t>(
        std::clamp<double>(k, 1, static_cast<double>(wire::kIocFilterMaxHashes)));
    h.v4_lengths = impl_->v4_lengths[0];
    std::copy(std::begin(impl_->v6_lengths), std::end(impl_->v6_lengths), h.v6_lengths);

    constexpr size_t kHeaderWords = sizeof(wire::IocFilterHeader) / 8;
    std::vector<uint64_t> out(kHeaderWords + filter_bytes / 8, 0);
    for (const Prefix &p : impl_->prefixes) {
        hls_kernels::ioc_filter_insert(h, out.data() + kHeaderWords, key_hash(p));
    }
    std::memcpy(out.data(), &h, sizeof h);
    return out;
}

}  // namespace tapsift::sift
