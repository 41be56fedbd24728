#include "syslog_tcp_framer.hpp"

#include <algorithm>

namespace tapsift::dataplane {
namespace {

// "NONZERO-DIGIT *DIGIT SP": 9 digits hold any length a message can have here.
constexpr size_t kMaxLengthDigits = 9;
// Kept while searching for a boundary, so a header split across two segments is still found.
constexpr size_t kResyncTail = kMaxLengthDigits + 2;

bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}
bool is_delimiter(uint8_t c) {
    return c == '\n' || c == '\0';
}

}  // namespace

SyslogTcpFramer::SyslogTcpFramer(size_t max_message, bool at_stream_start)
    : max_message_(max_message), synced_(at_stream_start), probe_start_(!at_stream_start) {
    buf_.reserve(std::min<size_t>(max_message_ + kResyncTail, 4096));
}

void SyslogTcpFramer::feed(const uint8_t *data, size_t len, SyslogTcpFrameSink &sink) {
    // Appended in chunks so the buffer never holds more than one message and its header.
    const size_t cap = max_message_ + kResyncTail + 1;
    while (len > 0) {
        if (oversize_skip_ > 0) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(oversize_skip_, len));
            oversize_skip_ -= n;
            counters_.oversize_bytes += n;
            data += n;
            len -= n;
            continue;
        }
        compact();
        const size_t n = std::min(len, cap - buf_.size());
        // Grown by doubling, but never past cap: a vector's own growth could double a buffer of
        // nearly max_message bytes, and it keeps that capacity for the connection's lifetime.
        if (buf_.size() + n > buf_.capacity()) {
            buf_.reserve(std::min(cap, std::max(buf_.capacity() * 2, buf_.size() + n)));
        }
        buf_.insert(buf_.end(), data, data + n);
        data += n;
        len -= n;
        while (pos_ < buf_.size() && oversize_skip_ == 0 && step(sink) == Step::kProgress) {
        }
    }
    compact();
}

void SyslogTcpFramer::gap() {
    const size_t partial = pending();
    if (partial > 0 && synced_) {
        ++counters_.cut_messages;
        counters_.cut_bytes += partial;
    } else {
        counters_.skipped_bytes += partial;
    }
    if (oversize_skip_ > 0) oversize_skip_ = 0;  // its end is unknown now
    buf_.clear();
    pos_ = 0;
    if (synced_) resyncing_ = true;
    synced_ = false;
    probe_start_ = true;
}

void SyslogTcpFramer::finish(SyslogTcpFrameSink &sink) {
    const size_t partial = pending();
    if (partial == 0) return;
    if (synced_ && framing_ == SyslogTcpFraming::kNonTransparent) {
        emit(pos_, partial, partial, sink);
    } else if (synced_) {
        ++counters_.cut_messages;
        counters_.cut_bytes += partial;
    } else {
        counters_.skipped_bytes += partial;
    }
    buf_.clear();
    pos_ = 0;
}

SyslogTcpFramer::Step SyslogTcpFramer::step(SyslogTcpFrameSink &sink) {
    if (!synced_) return resync();
    if (framing_ == SyslogTcpFraming::kUnknown) {
        // RFC 6587 3.4.1: MSG-LEN starts with a nonzero digit; a syslog message starts with '<'.
        const uint8_t c = buf_[pos_];
        framing_ = (c >= '1' && c <= '9') ? SyslogTcpFraming::kOctetCounting
                                          : SyslogTcpFraming::kNonTransparent;
    }
    return framing_ == SyslogTcpFraming::kOctetCounting ? octet_frame(sink) : delimited_frame(sink);
}

// The next frame boundary: after a delimiter and before '<' (non-transparent), or at a header
// "LEN SP <" not preceded by a digit (octet-counting); the framing already known narrows the
// choice.
SyslogTcpFramer::Step SyslogTcpFramer::resync() {
    const bool want_delimited = framing_ != SyslogTcpFraming::kOctetCounting;
    const bool want_octet = framing_ != SyslogTcpFraming::kNonTransparent;
    if (probe_start_) {
        const Probe probe = frame_starts_at(pos_, want_delimited, want_octet);
        if (probe == Probe::kMaybe) return Step::kNeedMore;
        probe_start_ = false;
        if (probe == Probe::kYes) {
            sync_at(pos_, buf_[pos_] == '<' ? SyslogTcpFraming::kNonTransparent
                                            : SyslogTcpFraming::kOctetCounting);
            return Step::kProgress;
        }
    }
    for (size_t p = pos_ + 1; p < buf_.size(); ++p) {
        if (want_delimited && is_delimiter(buf_[p - 1]) && buf_[p] == '<') {
            sync_at(p, SyslogTcpFraming::kNonTransparent);
            return Step::kProgress;
        }
        if (want_octet && !is_digit(buf_[p - 1])) {
            const Probe probe = frame_starts_at(p, false, true);
            if (probe == Probe::kMaybe) break;  // the header may continue in the next segment
            if (probe == Probe::kNo) continue;
            sync_at(p, SyslogTcpFraming::kOctetCounting);
            return Step::kProgress;
        }
    }
    // No boundary yet: keep only a tail that may hold the start of one.
    const size_t keep = std::min(kResyncTail, pending());
    counters_.skipped_bytes += pending() - keep;
    pos_ = buf_.size() - keep;
    return Step::kNeedMore;
}

// "<" 1-3 digits ">" (a PRI) for non-transparent framing; "NONZERO-DIGIT *DIGIT SP <" for
// octet-counting.
SyslogTcpFramer::Probe SyslogTcpFramer::frame_starts_at(size_t p, bool delimited,
                                                        bool octet) const {
    if (delimited && buf_[p] == '<') {
        size_t q = p + 1;
        while (q < buf_.size() && q - p <= 3 && is_digit(buf_[q])) ++q;
        if (q == buf_.size()) return Probe::kMaybe;
        return q > p + 1 && buf_[q] == '>' ? Probe::kYes : Probe::kNo;
    }
    if (octet && buf_[p] >= '1' && buf_[p] <= '9') {
        size_t q = p;
        while (q < buf_.size() && q - p < kMaxLengthDigits && is_digit(buf_[q])) ++q;
        if (q + 1 >= buf_.size()) return Probe::kMaybe;
        return buf_[q] == ' ' && buf_[q + 1] == '<' ? Probe::kYes : Probe::kNo;
    }
    return Probe::kNo;
}

void SyslogTcpFramer::sync_at(size_t p, SyslogTcpFraming framing) {
    counters_.skipped_bytes += p - pos_;
    pos_ = p;
    framing_ = framing;
    synced_ = true;
    if (resyncing_) ++counters_.resyncs;
    resyncing_ = false;
}

SyslogTcpFramer::Step SyslogTcpFramer::octet_frame(SyslogTcpFrameSink &sink) {
    size_t q = pos_;
    uint64_t msg_len = 0;
    while (q < buf_.size() && is_digit(buf_[q]) && q - pos_ < kMaxLengthDigits) {
        msg_len = msg_len * 10 + (buf_[q] - '0');
        ++q;
    }
    if (q == buf_.size()) return Step::kNeedMore;
    if (q == pos_ || buf_[pos_] == '0' || buf_[q] != ' ') {
        ++counters_.bad_headers;
        synced_ = false;
        resyncing_ = true;
        return Step::kProgress;
    }
    const size_t header = q + 1 - pos_;
    if (msg_len > max_message_) {
        ++counters_.oversize_messages;
        counters_.oversize_bytes += header;
        pos_ += header;
        const size_t here = std::min<size_t>(static_cast<size_t>(msg_len), pending());
        counters_.oversize_bytes += here;
        pos_ += here;
        oversize_skip_ = msg_len - here;
        return Step::kProgress;
    }
    if (pending() < header + msg_len) return Step::kNeedMore;
    emit(pos_ + header, static_cast<size_t>(msg_len), header + static_cast<size_t>(msg_len), sink);
    return Step::kProgress;
}

SyslogTcpFramer::Step SyslogTcpFramer::delimited_frame(SyslogTcpFrameSink &sink) {
    const auto begin = buf_.begin() + static_cast<std::ptrdiff_t>(pos_);
    const auto end = std::find_if(begin, buf_.end(), is_delimiter);
    if (end == buf_.end()) {
        if (pending() <= max_message_) return Step::kNeedMore;
        // Longer than any message: dropped, and framing resumes after the next delimiter.
        ++counters_.oversize_messages;
        counters_.oversize_bytes += pending();
        pos_ = buf_.size();
        synced_ = false;
        resyncing_ = true;
        return Step::kNeedMore;
    }
    const size_t msg_len = static_cast<size_t>(end - begin);
    if (msg_len == 0) {  // an empty line (e.g. CR LF senders' blank keep-alives) frames nothing
        counters_.skipped_bytes += 1;
        ++pos_;
        return Step::kProgress;
    }
    if (msg_len > max_message_) {  // the delimiter came, but too late: dropped whole
        ++counters_.oversize_messages;
        counters_.oversize_bytes += msg_len + 1;
        pos_ += msg_len + 1;
        return Step::kProgress;
    }
    emit(pos_, msg_len, msg_len + 1, sink);
    return Step::kProgress;
}

void SyslogTcpFramer::emit(size_t msg_begin, size_t msg_len, size_t frame_len,
                           SyslogTcpFrameSink &sink) {
    sink.on_message(buf_.data() + msg_begin, msg_len);
    ++counters_.messages;
    counters_.framed_bytes += frame_len;
    pos_ += frame_len;
}

void SyslogTcpFramer::compact() {
    if (pos_ == 0) return;
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
}

}  // namespace tapsift::dataplane
