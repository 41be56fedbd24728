// Every address written in a message: the kernel's dotted-quad scan for IPv4 (so host and kernel
// agree on what a dotted quad is), and inet_pton over IPv6-looking tokens, only when the scan
// saw an IPv6 candidate.
//
// An IPv6 token is a run of [0-9A-Fa-f:.] with at least two ':' and one hex digit, tried as:
//   - the run, without a trailing '.' (full stop) or a single trailing ':' ("fe80::1: refused");
//   - then cut at its last '.', for tcpdump's address.port ("2001:db8::1.443");
//   - then both again from after its first lone ':', for a label whose tail is a hex letter
//     ("src:2001:db8::1" gives the run "c:2001:db8::1").
// The text must not touch a letter or '_' on either side: "std::string" holds no "d::".
// A dotted quad inside an accepted IPv6 text ("::ffff:192.0.2.1", "64:ff9b::192.0.2.1") is not
// listed on its own: the IPv6 text is the address written.
#include "sift/message_addresses.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "prefilter/message_ips.hpp"

namespace tapsift::sift {
namespace {

using Addr = std::array<uint8_t, 16>;

struct Found {
    size_t pos;
    size_t end;
    Addr addr;
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex(char c) {
    const char lower = static_cast<char>(c | 0x20);
    return is_digit(c) || (lower >= 'a' && lower <= 'f');
}

bool is_word(char c) {
    const char lower = static_cast<char>(c | 0x20);
    return (lower >= 'a' && lower <= 'z') || is_digit(c) || c == '_';
}

bool in_v6_token(char c) {
    return is_hex(c) || c == ':' || c == '.';
}

Addr v4_mapped(uint32_t v4) {
    Addr a{};
    a[10] = a[11] = 0xff;
    a[12] = static_cast<uint8_t>(v4 >> 24);
    a[13] = static_cast<uint8_t>(v4 >> 16);
    a[14] = static_cast<uint8_t>(v4 >> 8);
    a[15] = static_cast<uint8_t>(v4);
    return a;
}

// The kernel scan over the whole message: in windows of kMaxMessageScanBytes cut between runs,
// and again after the last address listed when more than kMaxMessageIps were seen.
void find_v4(std::string_view m, std::vector<Found> &out, bool &v6_candidate) {
    const auto *bytes = reinterpret_cast<const uint8_t *>(m.data());
    constexpr size_t kWindow = hls_kernels::kMaxMessageScanBytes;
    size_t start = 0;
    while (start < m.size()) {
        size_t len = m.size() - start;
        if (len > kWindow) {
            // Cut before a byte outside both runs' alphabets, so that neither run is split.
            size_t cut = start + kWindow;
            while (cut > start && in_v6_token(m[cut])) --cut;
            if (cut == start) {
                v6_candidate = true;  // a hex run is split: the flag cannot be trusted
                cut = start + kWindow;
                while (cut > start && (is_digit(m[cut]) || m[cut] == '.')) --cut;
            }
            if (cut == start) {  // a run of digits and dots this long holds no address
                ++start;
                while (start < m.size() && (is_digit(m[start]) || m[start] == '.')) ++start;
                continue;
            }
            len = cut - start;
        }
        hls_kernels::MessageIps ips;
        hls_kernels::scan_message_ips(bytes + start, static_cast<uint32_t>(len), ips);
        v6_candidate = v6_candidate || ips.v6_candidate;
        for (uint32_t i = 0; i < ips.count; ++i) {
            const size_t pos = start + ips.v4_pos[i];
            out.push_back(Found{pos, pos + ips.v4_len[i], v4_mapped(ips.v4[i])});
        }
        if (ips.overflow) {
            const uint32_t last = hls_kernels::kMaxMessageIps - 1;
            start += ips.v4_pos[last] + ips.v4_len[last];
        } else {
            start += len;
        }
    }
}

bool parse_v6(std::string_view s, Addr &out) {
    if (s.size() < 3 || s.size() >= INET6_ADDRSTRLEN) return false;
    if (std::count(s.begin(), s.end(), ':') < 2 || std::none_of(s.begin(), s.end(), is_hex)) {
        return false;
    }
    char buf[INET6_ADDRSTRLEN];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    return inet_pton(AF_INET6, buf, out.data()) == 1;
}

// The text at [from, to) as an IPv6 address, else without its last '.' and what follows.
bool parse_v6_at(std::string_view m, size_t from, size_t to, Found &f) {
    if (from > 0 && is_word(m[from - 1])) return false;
    if (to < m.size() && is_word(m[to])) return false;
    if (parse_v6(m.substr(from, to - from), f.addr)) {
        f = Found{from, to, f.addr};
        return true;
    }
    const size_t dot = m.substr(from, to - from).rfind('.');
    if (dot != std::string_view::npos && parse_v6(m.substr(from, dot), f.addr)) {
        f = Found{from, from + dot, f.addr};
        return true;
    }
    return false;
}

void find_v6(std::string_view m, std::vector<Found> &out) {
    size_t i = 0;
    while (i < m.size()) {
        if (!in_v6_token(m[i])) {
            ++i;
            continue;
        }
        const size_t a = i;
        while (i < m.size() && in_v6_token(m[i])) ++i;
        size_t e = i;
        while (e > a && m[e - 1] == '.') --e;
        if (e - a >= 2 && m[e - 1] == ':' && m[e - 2] != ':') --e;
        const std::string_view token = m.substr(a, e - a);
        if (std::count(token.begin(), token.end(), ':') < 2) continue;
        Found f{};
        if (parse_v6_at(m, a, e, f)) {
            out.push_back(f);
            continue;
        }
        const size_t colon = token.find(':');
        const bool lone = token.substr(colon, 2) != "::" && (colon == 0 || token[colon - 1] != ':');
        if (lone && parse_v6_at(m, a + colon + 1, e, f)) out.push_back(f);
    }
}

}  // namespace

void find_message_addresses(std::string_view message, std::vector<std::array<uint8_t, 16>> &out) {
    out.clear();
    std::vector<Found> v4, v6;
    bool v6_candidate = false;
    find_v4(message, v4, v6_candidate);
    if (v6_candidate) find_v6(message, v6);
    // Merge in message order, leaving out dotted quads inside an IPv6 text.
    size_t j = 0;
    for (const Found &f : v4) {
        while (j < v6.size() && v6[j].end <= f.pos) out.push_back(v6[j++].addr);
        if (j < v6.size() && v6[j].pos <= f.pos) continue;
        out.push_back(f.addr);
    }
    while (j < v6.size()) out.push_back(v6[j++].addr);
}

}  // namespace tapsift::sift
