#include "format.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

namespace tapsift::event {

std::string format_timestamp(int64_t unix_ns) {
    int64_t secs = unix_ns / 1000000000;
    int64_t frac = unix_ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        secs -= 1;
    }
    // Civil date from days since the epoch (Howard Hinnant's civil_from_days), without gmtime's
    // locking and strftime's locale: this runs once per event.
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
    const int digits = frac % 1000000 == 0 ? 3 : frac % 1000 == 0 ? 6 : 9;
    const int64_t shown = digits == 3 ? frac / 1000000 : digits == 6 ? frac / 1000 : frac;
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:0{}}Z", year, month, day, tod / 3600,
                       tod / 60 % 60, tod % 60, shown, digits);
}

std::string format_address(const uint8_t addr[16]) {
    static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN];
    if (std::memcmp(addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
        inet_ntop(AF_INET, addr + 12, text, sizeof text);
    } else {
        inet_ntop(AF_INET6, addr, text, sizeof text);
    }
    return text;
}

}  // namespace tapsift::event
