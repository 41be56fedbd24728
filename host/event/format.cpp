#include "format.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

namespace tapsift::event {

namespace {

// Writes value as exactly width digits at out; returns the end.
char *digits(char *out, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

}  // namespace

ShortText timestamp_text(int64_t unix_ns) {
    int64_t secs = unix_ns / 1000000000;
    int64_t frac = unix_ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs -= 1;
    }
    // Civil date from days since the epoch (Howard Hinnant's civil_from_days), without gmtime's
    // locking and strftime's locale: this runs several times per event.
    const int64_t days = (secs >= 0 ? secs : secs - 86399) / 86400;
    const int64_t tod = secs - days * 86400;
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    const int frac_digits = frac % 1000000 == 0 ? 3 : frac % 1000 == 0 ? 6 : 9;
    const int64_t shown = frac_digits == 3 ? frac / 1000000 : frac_digits == 6 ? frac / 1000 : frac;
    ShortText t{};
    if (year < 0 || year > 9999) {  // int64 nanoseconds reach 1677..2262: never, but be exact
        const auto r = fmt::format_to_n(
            t.text, sizeof t.text, "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", year, month, day,
            tod / 3600, tod / 60 % 60, tod % 60, shown, frac_digits);
        t.len = static_cast<uint8_t>(r.size < sizeof t.text ? r.size : sizeof t.text);
        return t;
    }
    char *p = digits(t.text, year, 4);
    *p++ = '-';
    p = digits(p, month, 2);
    *p++ = '-';
    p = digits(p, day, 2);
    *p++ = 'T';
    p = digits(p, tod / 3600, 2);
    *p++ = ':';
    p = digits(p, tod / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, tod % 60, 2);
    *p++ = '.';
    p = digits(p, shown, frac_digits);
    *p++ = 'Z';
    t.len = static_cast<uint8_t>(p - t.text);
    return t;
}

bool is_ipv4_mapped(const uint8_t addr[16]) {
    static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(addr, kMappedPrefix, sizeof kMappedPrefix) == 0;
}

ShortText address_text(const uint8_t addr[16]) {
    ShortText t{};
    if (!is_ipv4_mapped(addr)) {
        inet_ntop(AF_INET6, addr, t.text, sizeof t.text);
        t.len = static_cast<uint8_t>(std::strlen(t.text));
        return t;
    }
    return ipv4_text(addr + 12);
}

ShortText ipv4_text(const uint8_t addr[4]) {
    ShortText t{};
    char *p = t.text;  // without inet_ntop's sprintf
    for (int i = 0; i < 4; ++i) {
        const uint8_t octet = addr[i];
        if (octet >= 100) *p++ = static_cast<char>('0' + octet / 100);
        if (octet >= 10) *p++ = static_cast<char>('0' + octet / 10 % 10);
        *p++ = static_cast<char>('0' + octet % 10);
        if (i < 3) *p++ = '.';
    }
    t.len = static_cast<uint8_t>(p - t.text);
    return t;
}

ShortText mac_text(const uint8_t mac[6]) {
    static const char kHex[] = "0123456789abcdef";
    ShortText t{};
    for (int i = 0; i < 6; ++i) {
        t.text[3 * i] = kHex[mac[i] >> 4];
        t.text[3 * i + 1] = kHex[mac[i] & 15];
        t.text[3 * i + 2] = ':';
    }
    t.len = 17;
    return t;
}

}  // namespace tapsift::event
