// syslog_parse kernel. Synthesizable style: no heap, no recursion, no exceptions, every loop
// bounded by a constant, 64-byte beats in and out.
//
// Two stages per record:
//   1. the beat loop copies the payload into local memory;
//   2. the header walk reads PRI, VERSION, TIMESTAMP and the SP-separated fields. Token ends are
//      found in a beat's 64-bit space mask (a structural bitmap, as simdjson does) with a
//      count-trailing-zeros; a beat is masked only when the walk reaches it, so the message body
//      is never scanned: it is returned as a span.
//
// RFC 3164 timestamps carry neither year nor zone. Rule (docs/syslog-rules.md): the zone is the
// configured offset (default UTC), and the year is the latest of {arrival-1, arrival,
// arrival+1} that dates the message no later than the month after the arrival's: a sender's
// clock may run a little ahead ("Jan 1" arriving on Dec 31 is next year's), but a message dated
// months ahead is last year's ("Apr 3" arriving in November), as rsyslog and syslog-ng prefer.
#include "syslog_parse.hpp"

#include <cstddef>

#include "tapsift_hls/ingest_reader.hpp"
#include "tapsift_hls/no_alloc.hpp"
#include "wire/descriptor.hpp"

namespace tapsift::hls_kernels {
namespace {

using wire::Descriptor;
using wire::Span;

constexpr int64_t kNsPerSecond = 1000000000;
constexpr int64_t kSecondsPerDay = 86400;

struct Payload {
    uint8_t bytes[kMaxPayloadBufferBytes];
    uint32_t len;
    // The last beat's space mask: the header walk asks for the same beat several times.
    mutable uint32_t mask_beat;
    mutable uint64_t mask;
};

uint64_t load_le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
#pragma HLS UNROLL
        v = (v << 8) | p[i];
    }
    return v;
}

// 8-bit mask of the bytes of w equal to c (bit i = byte i). Exact SWAR: no false positives, and
// plain logic in hardware.
uint64_t byte_eq_mask8(uint64_t w, uint8_t c) {
    const uint64_t x = w ^ (0x0101010101010101ULL * c);
    const uint64_t high =
        ~(((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x) & 0x8080808080808080ULL;
    return (high >> 7) * 0x0102040810204080ULL >> 56;
}

// Stage 1: copy the payload into local memory, one beat per iteration.
void load_payload(const beat_t *beats, uint32_t len, Payload &pl, SyslogParseCounters &ctr) {
    pl.len = len;
    pl.mask_beat = kMaxPayloadBeats;  // no mask yet
    ctr.beats_in += copy_payload(beats, len, pl.bytes);
}

// The 64-bit space mask of one beat (the structural bitmap), built when the header walk first
// reaches that beat: the message body, which the walk never enters, is never masked.
uint64_t space_mask(const Payload &pl, uint32_t beat) {
    if (pl.mask_beat == beat) return pl.mask;
    const uint8_t *chunk = &pl.bytes[beat * wire::kBeatBytes];
    uint64_t mask = 0;
    for (uint32_t w = 0; w < wire::kBeatBytes / 8; ++w) {
#pragma HLS UNROLL
        mask |= byte_eq_mask8(load_le64(chunk + 8 * w), ' ') << (8 * w);
    }
    pl.mask_beat = beat;
    pl.mask = mask;
    return mask;
}

// Position of the first space at or after pos, or len when there is none.
uint32_t next_space(const Payload &pl, uint32_t pos, SyslogParseCounters &ctr) {
    for (uint32_t b = pos / wire::kBeatBytes; b < kMaxPayloadBeats; ++b) {
#pragma HLS PIPELINE II = 1
        ctr.scan_steps++;
        if (b * wire::kBeatBytes >= pl.len) break;
        uint64_t mask = space_mask(pl, b);
        if (b == pos / wire::kBeatBytes) mask &= ~uint64_t{0} << (pos % wire::kBeatBytes);
        if (mask != 0) {
            const uint32_t at = b * wire::kBeatBytes + static_cast<uint32_t>(__builtin_ctzll(mask));
            return at < pl.len ? at : pl.len;
        }
    }
    return pl.len;
}

bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}

// Reads exactly n digits at pos; false if any is not a digit or the payload ends.
bool read_digits(const Payload &pl, uint32_t pos, int n, int32_t &value) {
    if (pos + static_cast<uint32_t>(n) > pl.len) return false;
    int32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        if (i >= n) break;
        const uint8_t c = pl.bytes[pos + static_cast<uint32_t>(i)];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    value = v;
    return true;
}

bool byte_is(const Payload &pl, uint32_t pos, uint8_t c) {
    return pos < pl.len && pl.bytes[pos] == c;
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 for a proleptic Gregorian date.
int64_t days_from_civil(int32_t y, int32_t m, int32_t d) {
    y -= m <= 2 ? 1 : 0;
    const int32_t era = (y >= 0 ? y : y - 399) / 400;
    const int32_t yoe = y - era * 400;
    const int32_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<int64_t>(era) * 146097 + doe - 719468;
}

// Months since year 0 (year * 12 + month - 1) of a time: the inverse of days_from_civil.
int64_t month_index_of(int64_t unix_seconds) {
    const int64_t z =
        (unix_seconds >= 0 ? unix_seconds : unix_seconds - kSecondsPerDay + 1) / kSecondsPerDay +
        719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (yoe + era * 400 + (m <= 2 ? 1 : 0)) * 12 + m - 1;
}

struct CivilTime {
    int32_t year, month, day, hour, minute, second;
    int64_t frac_ns;
    int32_t utc_offset_s;
};

// Years whose nanoseconds since 1970 fit an int64_t (with a margin for the UTC offset).
constexpr int32_t kMinYear = 1900;
constexpr int32_t kMaxYear = 2261;

bool civil_valid(const CivilTime &t) {
    return t.year >= kMinYear && t.year <= kMaxYear && t.month >= 1 && t.month <= 12 &&
           t.day >= 1 && t.day <= 31 && t.hour <= 23 && t.minute <= 59 && t.second <= 60;
}

int64_t civil_to_ns(const CivilTime &t) {
    const int64_t secs = days_from_civil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 +
                         t.minute * 60 + t.second - t.utc_offset_s;
    return secs * kNsPerSecond + t.frac_ns;
}

// "hh:mm:ss" at pos.
bool read_clock(const Payload &pl, uint32_t pos, CivilTime &t) {
    return read_digits(pl, pos, 2, t.hour) && byte_is(pl, pos + 2, ':') &&
           read_digits(pl, pos + 3, 2, t.minute) && byte_is(pl, pos + 5, ':') &&
           read_digits(pl, pos + 6, 2, t.second);
}

// The digits of a fraction of a second at pos, into frac_ns. Any number of digits is read (RFC
// 3339 allows it); those past nanoseconds are ignored, so what follows them is not lost.
// Returns the position after the last digit.
uint32_t read_fraction(const Payload &pl, uint32_t pos, int64_t &frac_ns) {
    uint32_t p = pos;
    int64_t scale = kNsPerSecond / 10;
    for (uint32_t i = 0; i < kMaxPayloadBufferBytes; ++i) {
        if (p >= pl.len || !is_digit(pl.bytes[p])) break;
        frac_ns += (pl.bytes[p] - '0') * scale;
        scale /= 10;
        ++p;
    }
    return p;
}

// RFC 3339 / RFC 5424 TIMESTAMP at pos: YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm|-hh:mm).
// A missing offset is accepted (some RFC 3164 senders) and means default_offset_s.
// Returns the position after the timestamp, or 0 when there is none.
uint32_t read_rfc3339(const Payload &pl, uint32_t pos, int32_t default_offset_s, int64_t &ns,
                      bool &had_offset) {
    CivilTime t{};
    if (!(read_digits(pl, pos, 4, t.year) && byte_is(pl, pos + 4, '-') &&
          read_digits(pl, pos + 5, 2, t.month) && byte_is(pl, pos + 7, '-') &&
          read_digits(pl, pos + 8, 2, t.day) &&
          (byte_is(pl, pos + 10, 'T') || byte_is(pl, pos + 10, 't')) &&
          read_clock(pl, pos + 11, t))) {
        return 0;
    }
    uint32_t p = pos + 19;
    if (byte_is(pl, p, '.')) p = read_fraction(pl, p + 1, t.frac_ns);
    had_offset = true;
    if (byte_is(pl, p, 'Z') || byte_is(pl, p, 'z')) {
        ++p;
    } else if (byte_is(pl, p, '+') || byte_is(pl, p, '-')) {
        int32_t oh = 0, om = 0;
        if (!(read_digits(pl, p + 1, 2, oh) && byte_is(pl, p + 3, ':') &&
              read_digits(pl, p + 4, 2, om)) ||
            oh > 23 || om > 59) {
            return 0;
        }
        t.utc_offset_s = (pl.bytes[p] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        p += 6;
    } else {
        had_offset = false;
        t.utc_offset_s = default_offset_s;
    }
    if (!civil_valid(t)) return 0;
    ns = civil_to_ns(t);
    return p;
}

int32_t month_from_name(const Payload &pl, uint32_t pos) {
    if (pos + 3 > pl.len) return 0;
    // Case-insensitive: "AUG" is seen in the wild.
    const uint32_t key = ((pl.bytes[pos] | 0x20u) << 16) | ((pl.bytes[pos + 1] | 0x20u) << 8) |
                         (pl.bytes[pos + 2] | 0x20u);
    const uint32_t names[12] = {0x6a616e, 0x666562, 0x6d6172, 0x617072, 0x6d6179, 0x6a756e,
                                0x6a756c, 0x617567, 0x736570, 0x6f6374, 0x6e6f76, 0x646563};
    for (int32_t m = 0; m < 12; ++m) {
#pragma HLS UNROLL
        if (names[m] == key) return m + 1;
    }
    return 0;
}

// RFC 3164 TIMESTAMP: "Mmm dd hh:mm:ss", also "Mmm d", "Mmm  d", and "Mmm dd yyyy hh:mm:ss",
// each with an optional fraction of a second, optionally followed by ':'. Returns the position
// after it, or 0.
uint32_t read_bsd_timestamp(const Payload &pl, uint32_t pos, int32_t offset_s, int64_t arrival_ns,
                            int64_t &ns, bool &year_inferred) {
    CivilTime t{};
    t.month = month_from_name(pl, pos);
    if (t.month == 0 || !byte_is(pl, pos + 3, ' ')) return 0;
    uint32_t p = pos + 4;
    if (byte_is(pl, p, ' ')) ++p;
    if (read_digits(pl, p, 2, t.day)) {
        p += 2;
    } else if (read_digits(pl, p, 1, t.day)) {
        p += 1;
    } else {
        return 0;
    }
    if (!byte_is(pl, p, ' ')) return 0;
    ++p;
    year_inferred = true;
    if (read_digits(pl, p, 4, t.year) && byte_is(pl, p + 4, ' ')) {
        year_inferred = false;
        p += 5;
    }
    if (!read_clock(pl, p, t)) return 0;
    p += 8;
    // Milliseconds ("13:39:11.250"), as Cisco's "service timestamps log datetime msec" sends.
    if (byte_is(pl, p, '.') && p + 1 < pl.len && is_digit(pl.bytes[p + 1])) {
        p = read_fraction(pl, p + 1, t.frac_ns);
    }
    if (byte_is(pl, p, ':')) ++p;
    t.utc_offset_s = offset_s;
    if (year_inferred) {
        t.year = 2000;  // a leap year, so "Feb 29" is accepted before the year is chosen
        if (!civil_valid(t)) return 0;
        const int64_t arrival_month = month_index_of(arrival_ns / kNsPerSecond);
        const int32_t arrival_year = static_cast<int32_t>(arrival_month / 12);
        // The previous year's month is never after the arrival's, so one candidate always fits.
        for (int32_t dy = -1; dy <= 1; ++dy) {
#pragma HLS UNROLL
            const int32_t year = arrival_year + dy;
            if (int64_t{year} * 12 + t.month - 1 <= arrival_month + 1) t.year = year;
        }
        ns = civil_to_ns(t);
        return p;
    }
    if (!civil_valid(t)) return 0;
    ns = civil_to_ns(t);
    return p;
}

Span span(uint32_t begin, uint32_t end) {
    return Span{static_cast<uint16_t>(begin), static_cast<uint16_t>(end - begin)};
}

// A SP-delimited RFC 5424 header field; "-" is NILVALUE (empty span). Advances pos past the SP.
Span take_field(const Payload &pl, uint32_t &pos, SyslogParseCounters &ctr) {
    const uint32_t begin = pos;
    const uint32_t end = next_space(pl, pos, ctr);
    pos = end < pl.len ? end + 1 : end;
    if (end - begin == 1 && pl.bytes[begin] == '-') return span(begin, begin);
    return span(begin, end);
}

// SD-NAME characters: PRINTUSASCII except '=', SP, ']' and '"' (RFC 5424 §6).
bool is_sd_name_char(uint8_t c) {
    return c > 32 && c < 127 && c != '=' && c != ']' && c != '"';
}

enum class SdState : uint8_t { kOpen, kId, kParamName, kQuote, kValue, kEscape, kAfterParam };

// STRUCTURED-DATA: 1*SD-ELEMENT, SD-ELEMENT = "[" SD-ID *(SP PARAM-NAME "=" DQUOTE PARAM-VALUE
// DQUOTE) "]", with \" \\ \] escapes in values (and, leniently, SP between "=" and DQUOTE, as
// rsyslog accepts). Returns the position after the last ']', or 0
// when it is not well-formed (the caller then keeps it as part of the message).
uint32_t scan_structured_data(const Payload &pl, uint32_t pos, SyslogParseCounters &ctr) {
    SdState state = SdState::kOpen;
    uint32_t name_len = 0;
    uint32_t p = pos;
    for (uint32_t i = 0; i < kMaxPayloadBufferBytes; ++i) {
#pragma HLS PIPELINE II = 1
        ctr.byte_steps++;
        if (p >= pl.len) return 0;
        const uint8_t c = pl.bytes[p];
        ++p;
        bool element_closed = false;
        switch (state) {
            case SdState::kOpen:
                if (c != '[') return 0;
                state = SdState::kId;
                name_len = 0;
                break;
            case SdState::kId:
            case SdState::kParamName:
                if (is_sd_name_char(c)) {
                    ++name_len;
                } else if (name_len > 0 && state == SdState::kId && c == ' ') {
                    state = SdState::kParamName;
                    name_len = 0;
                } else if (name_len > 0 && state == SdState::kId && c == ']') {
                    element_closed = true;
                } else if (name_len > 0 && state == SdState::kParamName && c == '=') {
                    state = SdState::kQuote;
                } else {
                    return 0;
                }
                break;
            case SdState::kQuote:  // SP before the quote is tolerated, as rsyslog does
                if (c == '"') {
                    state = SdState::kValue;
                } else if (c != ' ') {
                    return 0;
                }
                break;
            case SdState::kValue:
                if (c == '\\') state = SdState::kEscape;
                if (c == '"') state = SdState::kAfterParam;
                break;
            case SdState::kEscape:
                state = SdState::kValue;
                break;
            case SdState::kAfterParam:
                if (c == ' ') {
                    state = SdState::kParamName;
                    name_len = 0;
                } else if (c == ']') {
                    element_closed = true;
                } else {
                    return 0;
                }
                break;
        }
        if (element_closed) {
            if (p >= pl.len || pl.bytes[p] != '[') return p;
            state = SdState::kOpen;
        }
    }
    return 0;
}

// Message body: from pos to the end, without a UTF-8 BOM and without trailing CR, LF and NUL.
Span message_span(const Payload &pl, uint32_t pos) {
    uint32_t begin = pos < pl.len ? pos : pl.len;
    if (begin + 3 <= pl.len && pl.bytes[begin] == 0xEF && pl.bytes[begin + 1] == 0xBB &&
        pl.bytes[begin + 2] == 0xBF) {
        begin += 3;
    }
    uint32_t end = pl.len;
    for (uint32_t i = 0; i < kMaxPayloadBufferBytes; ++i) {
        if (end <= begin) break;
        const uint8_t c = pl.bytes[end - 1];
        if (c != '\n' && c != '\r' && c != '\0') break;
        --end;
    }
    return span(begin, end);
}

void parse_rfc5424(const Payload &pl, uint32_t pos, Descriptor &d, SyslogParseCounters &ctr) {
    d.format = static_cast<uint8_t>(wire::SyslogFormat::kRfc5424);
    uint32_t p = pos;
    const uint32_t ts_end = next_space(pl, p, ctr);
    bool had_offset = false;
    int64_t ns = 0;
    if (!(ts_end - p == 1 && pl.bytes[p] == '-') &&
        read_rfc3339(pl, p, 0, ns, had_offset) == ts_end) {
        d.timestamp_ns = ns;
        d.has_timestamp_offset = had_offset ? 1 : 0;
        d.notes &= static_cast<uint16_t>(~wire::kNoteNoTimestamp);
    }
    p = ts_end < pl.len ? ts_end + 1 : ts_end;
    d.hostname = take_field(pl, p, ctr);
    d.appname = take_field(pl, p, ctr);
    d.procid = take_field(pl, p, ctr);
    d.msgid = take_field(pl, p, ctr);
    if (p >= pl.len) {
        d.message = span(pl.len, pl.len);
        return;
    }
    if (pl.bytes[p] == '-') {
        ++p;
    } else {
        const uint32_t sd_end = scan_structured_data(pl, p, ctr);
        if (sd_end == 0) {
            d.notes |= wire::kNoteBadStructuredData;
        } else {
            d.structured_data = span(p, sd_end);
            p = sd_end;
        }
    }
    if (byte_is(pl, p, ' ')) ++p;
    d.message = message_span(pl, p);
}

// TAG (programname[procid]:) at pos. Returns the position where the message starts.
uint32_t parse_tag(const Payload &pl, uint32_t pos, Descriptor &d, SyslogParseCounters &ctr) {
    uint32_t p = pos;
    for (uint32_t i = 0; i < kMaxPayloadBufferBytes; ++i) {
#pragma HLS PIPELINE II = 1
        ctr.byte_steps++;
        if (p >= pl.len) break;
        const uint8_t c = pl.bytes[p];
        if (c == ':' || c == '[' || c == ' ') break;
        ++p;
    }
    d.appname = span(pos, p);
    if (byte_is(pl, p, '[')) {
        const uint32_t pid_begin = p + 1;
        uint32_t q = pid_begin;
        for (uint32_t i = 0; i < kMaxPayloadBufferBytes; ++i) {
#pragma HLS PIPELINE II = 1
            ctr.byte_steps++;
            if (q >= pl.len || pl.bytes[q] == ']' || pl.bytes[q] == ' ') break;
            ++q;
        }
        if (byte_is(pl, q, ']')) {
            d.procid = span(pid_begin, q);
            p = q + 1;
        }
    }
    if (byte_is(pl, p, ':')) ++p;
    if (byte_is(pl, p, ' ')) ++p;
    return p;
}

// A first token ending in ':' (or "name[pid]:") is a tag, whatever sits in the hostname slot.
bool token_is_tag(const Payload &pl, uint32_t begin, uint32_t end) {
    return end > begin && (pl.bytes[end - 1] == ':' || pl.bytes[end - 1] == ']');
}

bool is_hex_digit(uint8_t c) {
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

// IPv6 address text (hex digits, ':' and '.', two ':' at least, at most 45 characters): a
// HOSTNAME (RFC 3164 §4.1.2), even when it ends in ':' like a tag ("2001:db8::").
bool token_is_ipv6_text(const Payload &pl, uint32_t begin, uint32_t end) {
    constexpr uint32_t kLongestIpv6Text = 45;
    if (end - begin > kLongestIpv6Text) return false;
    uint32_t colons = 0;
    for (uint32_t i = 0; i < kLongestIpv6Text; ++i) {
        if (begin + i >= end) break;
        const uint8_t c = pl.bytes[begin + i];
        if (c == ':') {
            ++colons;
        } else if (!is_hex_digit(c) && c != '.') {
            return false;
        }
    }
    return colons >= 2;
}

// Cisco IOS (docs/syslog-rules.md), after the PRI:
//   [SEQ ": "] [ORIGIN ": "] [UPTIME ": " | ["*"|"."] TIMESTAMP [" " ZONE] ": "] "%" CODE ":" TEXT
// SEQ is "service sequence-numbers", ORIGIN "logging origin-id", and the marker a clock that was
// never set ('*') or is no longer synchronised ('.'). Read so only when the Cisco message code
// follows, so that other senders' "word: text" keeps its RFC 3164 reading.
struct CiscoHeader {
    uint32_t sequence;
    bool has_sequence;
    Span origin;
    int64_t timestamp_ns;
    bool has_timestamp;
    bool year_inferred;
    bool clock_unsynced;
    bool zone_utc;
    uint32_t code_pos;  // the '%' of the message code
};

bool is_code_char(uint8_t c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || c == '_';
}

// "%FACILITY-SEVERITY-MNEMONIC:" at pos, SEVERITY one digit 0..7 (IOS XR's
// "%FACILITY-SUBFACILITY-SEVERITY-MNEMONIC:" too): Cisco's system message format.
bool is_cisco_message_code(const Payload &pl, uint32_t pos) {
    constexpr uint32_t kLongestCode = 96;
    if (!byte_is(pl, pos, '%')) return false;
    uint32_t dashes = 0, run = 0, previous_run = 0;
    uint8_t previous_last = 0;
    for (uint32_t i = 1; i < kLongestCode; ++i) {
        if (pos + i >= pl.len) return false;
        const uint8_t c = pl.bytes[pos + i];
        if (c == ':') {
            return dashes >= 2 && run > 0 && previous_run == 1 && previous_last >= '0' &&
                   previous_last <= '7';
        }
        if (c == '-') {
            if (run == 0) return false;
            ++dashes;
            previous_run = run;
            previous_last = pl.bytes[pos + i - 1];
            run = 0;
        } else if (is_code_char(c)) {
            ++run;
        } else {
            return false;
        }
    }
    return false;
}

// "SEQ: " at pos (at most 10 digits, within uint32). Returns the position after it, or pos.
uint32_t read_cisco_sequence(const Payload &pl, uint32_t pos, CiscoHeader &h) {
    uint64_t value = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < 10; ++i) {
        if (pos + i >= pl.len || !is_digit(pl.bytes[pos + i])) break;
        value = value * 10 + (pl.bytes[pos + i] - '0');
        ++n;
    }
    if (n == 0 || value > 0xffffffffu || !byte_is(pl, pos + n, ':') ||
        !byte_is(pl, pos + n + 1, ' ')) {
        return pos;
    }
    h.sequence = static_cast<uint32_t>(value);
    h.has_sequence = true;
    return pos + n + 2;
}

// An uptime stamp ("service timestamps log uptime": "00:01:23", "1d02h", "2w3d"), begin..end
// without the final ':': a digit first, then only digits, ':' and the unit letters.
bool is_cisco_uptime(const Payload &pl, uint32_t begin, uint32_t end) {
    constexpr uint32_t kLongestUptime = 16;
    if (end <= begin || end - begin > kLongestUptime || !is_digit(pl.bytes[begin])) return false;
    for (uint32_t i = 0; i < kLongestUptime; ++i) {
        if (begin + i >= end) break;
        const uint8_t c = pl.bytes[begin + i];
        if (!is_digit(c) && c != ':' && c != 'w' && c != 'd' && c != 'h' && c != 'y') {
            return false;
        }
    }
    return true;
}

// ["*"|"."] TIMESTAMP [" " ZONE] ":" at pos. Returns the position after the ':', or 0.
uint32_t read_cisco_timestamp(const Payload &pl, uint32_t pos, int32_t offset_s, int64_t arrival_ns,
                              CiscoHeader &h) {
    uint32_t p = pos;
    const bool marked = byte_is(pl, p, '*') || byte_is(pl, p, '.');
    if (marked) ++p;
    int64_t ns = 0;
    bool year_inferred = false;
    uint32_t end = read_bsd_timestamp(pl, p, offset_s, arrival_ns, ns, year_inferred);
    if (end == 0) return 0;
    bool zone_utc = false;
    if (pl.bytes[end - 1] != ':') {
        // "show-timezone": a zone name, then ':'. Only UTC and GMT name an offset for sure.
        constexpr uint32_t kLongestZone = 6;
        if (!byte_is(pl, end, ' ')) return 0;
        const uint32_t zone = end + 1;
        uint32_t n = 0;
        for (uint32_t i = 0; i < kLongestZone; ++i) {
            if (zone + i >= pl.len) break;
            const uint8_t c = pl.bytes[zone + i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) break;
            ++n;
        }
        if (n == 0 || !byte_is(pl, zone + n, ':')) return 0;
        zone_utc =
            n == 3 &&
            ((pl.bytes[zone] == 'U' && pl.bytes[zone + 1] == 'T' && pl.bytes[zone + 2] == 'C') ||
             (pl.bytes[zone] == 'G' && pl.bytes[zone + 1] == 'M' && pl.bytes[zone + 2] == 'T'));
        end = zone + n + 1;
    }
    // read_bsd_timestamp read the clock in the configured zone; a UTC stamp undoes that.
    h.timestamp_ns = zone_utc ? ns + int64_t{offset_s} * kNsPerSecond : ns;
    h.has_timestamp = true;
    h.year_inferred = year_inferred;
    h.clock_unsynced = marked;
    h.zone_utc = zone_utc;
    return end;
}

// The Cisco IOS header at pos. True, with h filled, when a Cisco message code follows it.
bool read_cisco_header(const Payload &pl, uint32_t pos, int32_t offset_s, int64_t arrival_ns,
                       CiscoHeader &h, SyslogParseCounters &ctr) {
    uint32_t p = read_cisco_sequence(pl, pos, h);
    // At most an origin and a time stamp, in that order.
    for (int field = 0; field < 2; ++field) {
        if (is_cisco_message_code(pl, p)) break;
        const uint32_t ts_end = read_cisco_timestamp(pl, p, offset_s, arrival_ns, h);
        if (ts_end != 0) {
            p = byte_is(pl, ts_end, ' ') ? ts_end + 1 : ts_end;
            break;
        }
        const uint32_t token_end = next_space(pl, p, ctr);
        if (token_end <= p + 1 || pl.bytes[token_end - 1] != ':' || !byte_is(pl, token_end, ' ')) {
            return false;
        }
        const bool uptime = is_cisco_uptime(pl, p, token_end - 1);
        if (!uptime) {
            if (field > 0) return false;
            h.origin = span(p, token_end - 1);
        }
        p = token_end + 1;
        if (uptime) break;
    }
    if (!is_cisco_message_code(pl, p)) return false;
    h.code_pos = p;
    return true;
}

void parse_rfc3164(const Payload &pl, uint32_t pos, int32_t offset_s, int64_t arrival_ns,
                   Descriptor &d, SyslogParseCounters &ctr) {
    d.format = static_cast<uint8_t>(wire::SyslogFormat::kRfc3164);
    uint32_t p = pos;
    for (int i = 0; i < 4; ++i) {  // "<14> Mar  7 ..." is seen in the wild
        if (!byte_is(pl, p, ' ')) break;
        ++p;
    }
    CiscoHeader cisco{};
    if (read_cisco_header(pl, p, offset_s, arrival_ns, cisco, ctr)) {
        d.format = static_cast<uint8_t>(wire::SyslogFormat::kCiscoIos);
        d.has_sender_sequence = cisco.has_sequence ? 1 : 0;
        d.sender_sequence = cisco.sequence;
        d.hostname = cisco.origin;
        if (cisco.has_timestamp) {
            d.timestamp_ns = cisco.timestamp_ns;
            d.has_timestamp_offset = cisco.zone_utc ? 1 : 0;
            d.notes &= static_cast<uint16_t>(~wire::kNoteNoTimestamp);
            if (cisco.year_inferred) d.notes |= wire::kNoteYearInferred;
            if (cisco.clock_unsynced) d.notes |= wire::kNoteClockUnsynced;
        }
        d.message = message_span(pl, parse_tag(pl, cisco.code_pos, d, ctr));
        return;
    }
    int64_t ns = 0;
    bool year_inferred = false;
    bool had_offset = false;
    uint32_t ts_end = read_bsd_timestamp(pl, p, offset_s, arrival_ns, ns, year_inferred);
    if (ts_end == 0) {
        ts_end = read_rfc3339(pl, p, offset_s, ns, had_offset);
        d.has_timestamp_offset = had_offset ? 1 : 0;
    }
    if (ts_end == 0) {
        // No timestamp: no hostname either. A leading "tag:" is still recognised.
        const uint32_t tok_end = next_space(pl, p, ctr);
        if (token_is_tag(pl, p, tok_end)) p = parse_tag(pl, p, d, ctr);
        d.message = message_span(pl, p);
        return;
    }
    d.timestamp_ns = ns;
    d.notes &= static_cast<uint16_t>(~wire::kNoteNoTimestamp);
    if (year_inferred) d.notes |= wire::kNoteYearInferred;
    p = ts_end;
    if (byte_is(pl, p, ' ')) ++p;
    const uint32_t host_end = next_space(pl, p, ctr);
    if (host_end > p && (!token_is_tag(pl, p, host_end) || token_is_ipv6_text(pl, p, host_end))) {
        d.hostname = span(p, host_end);
        p = host_end;
        if (byte_is(pl, p, ' ')) ++p;
    }
    p = parse_tag(pl, p, d, ctr);
    d.message = message_span(pl, p);
}

// PRI at the start of the payload. Returns the position after '>', 0 when there is no PRI,
// or -1 when a '<' starts something that is not a valid PRI.
int32_t read_pri(const Payload &pl, uint16_t &pri) {
    if (!byte_is(pl, 0, '<')) return 0;
    uint32_t value = 0;
    for (uint32_t i = 1; i <= 4; ++i) {
        if (i >= pl.len) return -1;
        const uint8_t c = pl.bytes[i];
        if (c == '>') {
            if (i == 1 || value > 191) return -1;
            pri = static_cast<uint16_t>(value);
            return static_cast<int32_t>(i + 1);
        }
        if (!is_digit(c) || i == 4) return -1;
        value = value * 10 + (c - '0');
    }
    return -1;
}

void parse_record(const Payload &pl, uint32_t flags, int32_t offset_s, int64_t arrival_ns,
                  Descriptor &d, SyslogParseCounters &ctr) {
    d.kind = static_cast<uint8_t>(wire::RecordKind::kSyslog);
    d.timestamp_ns = arrival_ns;
    d.notes = wire::kNoteNoTimestamp;
    if (flags & wire::kRecordTruncated) d.notes |= wire::kNoteTruncated;
    if (pl.len == 0) {
        d.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
        d.malformed_reason = static_cast<uint8_t>(wire::SyslogMalformed::kEmpty);
        return;
    }
    uint16_t pri = 13;
    const int32_t after_pri = read_pri(pl, pri);
    if (after_pri < 0) {
        d.verdict = static_cast<uint8_t>(wire::Verdict::kMalformed);
        d.malformed_reason = static_cast<uint8_t>(wire::SyslogMalformed::kBadPri);
        return;
    }
    if (after_pri == 0) d.notes |= wire::kNoteNoPri;
    d.priority = pri;
    const uint32_t p = static_cast<uint32_t>(after_pri);
    // VERSION is NONZERO-DIGIT 0*2DIGIT, then SP; RFC 3164 never has that shape.
    int n = 0;
    int32_t version = 0;
    for (int digits = 1; digits <= 3; ++digits) {
#pragma HLS UNROLL
        if (n == 0 && read_digits(pl, p, digits, version) &&
            byte_is(pl, p + static_cast<uint32_t>(digits), ' ')) {
            n = digits;
        }
    }
    if (after_pri > 0 && n > 0 && pl.bytes[p] != '0') {
        d.version = static_cast<uint16_t>(version);
        parse_rfc5424(pl, p + static_cast<uint32_t>(n) + 1, d, ctr);
        return;
    }
    parse_rfc3164(pl, p, offset_s, arrival_ns, d, ctr);
}

}  // namespace

void syslog_parse(const beat_t *ingest, beat_t *descriptors, int32_t rfc3164_utc_offset_s,
                  SyslogParseCounters *counters) {
#pragma HLS INTERFACE m_axi port = ingest offset = slave bundle = gmem0
#pragma HLS INTERFACE m_axi port = descriptors offset = slave bundle = gmem1
#pragma HLS INTERFACE m_axi port = counters offset = slave bundle = gmem1
#pragma HLS INTERFACE s_axilite port = rfc3164_utc_offset_s
#pragma HLS INTERFACE s_axilite port = return
    Payload payload;  // one URAM buffer in hardware; on the stack (not static) so lcores can share
                      // the code
#pragma HLS BIND_STORAGE variable = payload.bytes type = ram_2p impl = uram
    SyslogParseCounters ctr = *counters;
    BatchHeader batch;
    if (!read_batch_header(ingest, batch)) {
        ctr.bad_batches++;
        *counters = ctr;
        return;
    }
    uint32_t beat = 1;
    for (uint32_t r = 0; r < wire::kMaxRecordsPerBatch; ++r) {
        if (r >= batch.record_count || beat >= batch.total_beats) break;
        RecordHeader rec;
        read_record_header(ingest[beat], rec);
        const uint32_t len = rec.payload_len;
        if (beat + 1 + wire::payload_beats(len) > batch.total_beats)
            break;  // a record past the batch's end
        load_payload(ingest + beat + 1, len, payload, ctr);
        Descriptor d{};
        d.record_index = r;
        parse_record(payload, rec.flags, rfc3164_utc_offset_s, rec.arrival_ns, d, ctr);
        write_beats(d, descriptors + r * wire::kDescriptorBeats);
        beat += 1 + wire::payload_beats(len);
        ctr.beats_in += 1;
        ctr.records++;
    }
    *counters = ctr;
}

}  // namespace tapsift::hls_kernels
