// Dotted quads and IPv6 candidates in a message: one pass, one byte per iteration, two small
// state machines (a run of [0-9.] for IPv4, a run of [0-9A-Fa-f:] for IPv6) and no look-back,
// so the loop pipelines at II=1. Synthesizable style: no heap, no recursion, bounded loops.
#include "message_ips.hpp"

#include "tapsift_hls/no_alloc.hpp"

namespace tapsift::hls_kernels {
namespace {

bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}

bool is_letter(uint8_t c) {
    const uint8_t lower = c | 0x20;
    return lower >= 'a' && lower <= 'z';
}

bool is_hex_letter(uint8_t c) {
    const uint8_t lower = c | 0x20;
    return lower >= 'a' && lower <= 'f';
}

// A run of digits and dots, read octet by octet.
struct QuadRun {
    bool open;
    bool ok;          // still four octets of 1-3 digits, each <= 255
    uint32_t dots;    // 4: a '.' after the fourth octet, allowed only as the run's last byte
    uint32_t digits;  // in the current octet
    uint32_t octet;
    uint32_t addr;
    uint32_t start;
};

// A run of hex digits and colons; clock tracks whether it is still "dd:dd:dd".
struct HexRun {
    bool open;
    bool hex;  // at least one hex digit
    bool clock;
    uint32_t colons;
    uint32_t group;  // digits in the current group
};

void emit(MessageIps &out, uint32_t addr, uint32_t pos, uint32_t len) {
    if (out.count < kMaxMessageIps) {
        out.v4[out.count] = addr;
        out.v4_pos[out.count] = pos;
        out.v4_len[out.count] = static_cast<uint8_t>(len);
        out.count++;
    } else {
        out.overflow = 1;
    }
}

void quad_byte(QuadRun &q, uint8_t c, uint32_t pos, MessageIps &out) {
    if (is_digit(c)) {
        if (!q.open) q = QuadRun{true, true, 0, 0, 0, 0, pos};
        if (q.dots == 4) q.ok = false;  // a fifth octet
        q.digits++;
        if (q.digits > 3) q.ok = false;
        if (q.ok) q.octet = q.octet * 10 + (c - '0');
    } else if (c == '.') {
        if (!q.open) {
            q = QuadRun{true, false, 0, 0, 0, 0, pos};  // a leading '.'
        } else if (q.digits == 0) {
            q.ok = false;  // "..", or a second '.' after the fourth octet
        } else {
            if (q.octet > 255) q.ok = false;
            q.addr = (q.addr << 8) | (q.octet & 0xff);
            q.dots++;
            if (q.dots > 4) q.ok = false;
            q.digits = 0;
            q.octet = 0;
        }
    } else if (q.open) {
        if (q.ok && q.dots == 3 && q.digits > 0 && q.octet <= 255) {
            emit(out, (q.addr << 8) | q.octet, q.start, pos - q.start);
        } else if (q.ok && q.dots == 4 && q.digits == 0 && !is_letter(c)) {
            // A full stop, not a name going on ("4.3.2.1.in-addr.arpa").
            emit(out, q.addr, q.start, pos - q.start - 1);
        }
        q.open = false;
    }
}

void hex_byte(HexRun &h, uint8_t c, MessageIps &out) {
    const bool digit = is_digit(c);
    const bool letter = is_hex_letter(c);
    if (digit || letter || c == ':') {
        if (!h.open) h = HexRun{true, false, true, 0, 0};
        if (c == ':') {
            if (h.group != 2) h.clock = false;
            h.group = 0;
            h.colons++;
        } else {
            h.hex = true;
            if (letter) h.clock = false;
            h.group++;
            if (h.group > 2) h.clock = false;
        }
    } else if (h.open) {
        const bool clock = h.clock && h.colons == 2 && h.group == 2;
        if (h.colons >= 2 && h.hex && !clock) out.v6_candidate = 1;
        h.open = false;
    }
}

}  // namespace

void scan_message_ips(const uint8_t *msg, uint32_t len, MessageIps &out) {
    for (uint32_t i = 0; i < kMaxMessageIps; ++i) {
#pragma HLS UNROLL
        out.v4[i] = 0;
        out.v4_pos[i] = 0;
        out.v4_len[i] = 0;
    }
    out.count = 0;
    out.overflow = 0;
    out.v6_candidate = 0;
    const uint32_t n = len < kMaxMessageScanBytes ? len : kMaxMessageScanBytes;
    QuadRun q{};
    HexRun h{};
    // One iteration past the last byte: a NUL that closes both runs.
    for (uint32_t i = 0; i <= kMaxMessageScanBytes; ++i) {
#pragma HLS PIPELINE II = 1
        if (i > n) break;
        const uint8_t c = i < n ? msg[i] : 0;
        quad_byte(q, c, i, out);
        hex_byte(h, c, out);
    }
}

}  // namespace tapsift::hls_kernels
