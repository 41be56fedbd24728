#include "tcp_stream_reassembler.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace tapsift::dataplane {

TcpStreamReassembler::TcpStreamReassembler(uint32_t window, size_t max_held, size_t compare_bytes)
    : window_(window), max_held_(max_held), compare_bytes_(compare_bytes) {}

int64_t TcpStreamReassembler::offset_of(uint32_t seq) const {
    const uint32_t next_seq = base_seq_ + static_cast<uint32_t>(next_);
    return static_cast<int64_t>(next_) + static_cast<int32_t>(seq - next_seq);
}

TcpSegmentOutcome TcpStreamReassembler::add(const TcpSegment &seg, TcpByteSink &sink) {
    if (!started_) {
        // Without a SYN the stream is picked up mid-way: its first byte seen is offset 0.
        started_ = true;
        saw_syn_ = seg.syn;
        base_seq_ = seg.syn ? seg.seq + 1 : seg.seq;
    }
    const uint32_t data_seq = seg.syn ? seg.seq + 1 : seg.seq;  // a SYN takes one sequence number
    int64_t off = offset_of(data_seq);
    if (seg.fin && !fin_seen_ && off + seg.len >= 0) {
        fin_seen_ = true;
        fin_offset_ = static_cast<uint64_t>(off + seg.len);
    }
    if (seg.len == 0) return TcpSegmentOutcome::kControl;

    const int64_t next = static_cast<int64_t>(next_);
    const int64_t end = off + seg.len;
    bool conflict = false;
    if (end <= next) {
        compare_delivered(off, seg.payload, seg.len, conflict);
        counters_.duplicate_bytes += seg.len;
        if (conflict) ++counters_.conflict_segments;
        return TcpSegmentOutcome::kDuplicate;
    }
    if (off > next + static_cast<int64_t>(window_)) {
        counters_.out_of_window_bytes += seg.len;
        return TcpSegmentOutcome::kOutOfWindow;
    }
    const uint8_t *data = seg.payload;
    size_t len = seg.len;
    if (off < next) {  // the front was delivered already: the first copy wins
        const size_t seen = static_cast<size_t>(next - off);
        compare_delivered(off, data, seen, conflict);
        counters_.duplicate_bytes += seen;
        data += seen;
        len -= seen;
        off = next;
    }
    if (static_cast<uint64_t>(off) > next_ && held_bytes_ + len > max_held_) {
        // No room to wait any longer for the missing bytes: skip the gap, then look again.
        skip_to_first_held(sink);
        const int64_t now = static_cast<int64_t>(next_);
        if (off + static_cast<int64_t>(len) <= now) {
            compare_delivered(off, data, len, conflict);
            counters_.duplicate_bytes += len;
            if (conflict) ++counters_.conflict_segments;
            return TcpSegmentOutcome::kDuplicate;
        }
        if (off < now) {
            const size_t seen = static_cast<size_t>(now - off);
            compare_delivered(off, data, seen, conflict);
            counters_.duplicate_bytes += seen;
            data += seen;
            len -= seen;
            off = now;
        }
        if (static_cast<uint64_t>(off) > next_ && held_bytes_ + len > max_held_) {
            counters_.over_budget_bytes += len;
            return TcpSegmentOutcome::kOverBudget;
        }
    }
    const size_t fresh = hold(static_cast<uint64_t>(off), data, len, conflict);
    counters_.duplicate_bytes += len - fresh;
    if (conflict) ++counters_.conflict_segments;
    deliver_held(sink);
    return fresh > 0 ? TcpSegmentOutcome::kUsed : TcpSegmentOutcome::kDuplicate;
}

void TcpStreamReassembler::flush(TcpByteSink &sink) {
    while (!held_.empty()) skip_to_first_held(sink);
    if (fin_seen_ && fin_offset_ > next_) {  // bytes before the FIN that never showed up
        ++counters_.gaps;
        counters_.gap_bytes += fin_offset_ - next_;
        sink.on_gap(fin_offset_ - next_);
        next_ = fin_offset_;
        recent_.clear();
    }
}

void TcpStreamReassembler::compare_delivered(int64_t off, const uint8_t *data, size_t len,
                                             bool &conflict) const {
    const int64_t recent_begin = static_cast<int64_t>(next_) - static_cast<int64_t>(recent_.size());
    const int64_t from = std::max(off, recent_begin);
    const int64_t to = std::min(off + static_cast<int64_t>(len), static_cast<int64_t>(next_));
    if (from >= to) return;
    if (std::memcmp(data + (from - off), recent_.data() + (from - recent_begin),
                    static_cast<size_t>(to - from)) != 0) {
        conflict = true;
    }
}

// Holds the bytes of [off, off + len) no held segment covers yet; returns how many.
size_t TcpStreamReassembler::hold(uint64_t off, const uint8_t *data, size_t len, bool &conflict) {
    const uint64_t end = off + len;
    auto it = held_.upper_bound(off);
    if (it != held_.begin()) {
        const auto prev = std::prev(it);
        if (prev->first + prev->second.size() > off) it = prev;
    }
    size_t fresh = 0;
    uint64_t cur = off;
    while (cur < end) {
        if (it != held_.end() && it->first <= cur) {
            const uint64_t covered_end = std::min<uint64_t>(end, it->first + it->second.size());
            if (std::memcmp(data + (cur - off), it->second.data() + (cur - it->first),
                            covered_end - cur) != 0) {
                conflict = true;
            }
            cur = covered_end;
            ++it;
            continue;
        }
        const uint64_t piece_end = it != held_.end() ? std::min(end, it->first) : end;
        held_.emplace_hint(it, cur,
                           std::vector<uint8_t>(data + (cur - off), data + (piece_end - off)));
        fresh += piece_end - cur;
        cur = piece_end;
    }
    held_bytes_ += fresh;
    return fresh;
}

void TcpStreamReassembler::deliver(const uint8_t *data, size_t len, TcpByteSink &sink) {
    sink.on_bytes(data, len);
    counters_.delivered_bytes += len;
    next_ += len;
    if (len >= compare_bytes_) {
        recent_.assign(data + (len - compare_bytes_), data + len);
    } else {
        const size_t keep = std::min(recent_.size(), compare_bytes_ - len);
        recent_.erase(recent_.begin(),
                      recent_.begin() + static_cast<std::ptrdiff_t>(recent_.size() - keep));
        recent_.insert(recent_.end(), data, data + len);
    }
}

void TcpStreamReassembler::deliver_held(TcpByteSink &sink) {
    while (!held_.empty() && held_.begin()->first == next_) {
        const auto first = held_.begin();
        held_bytes_ -= first->second.size();
        deliver(first->second.data(), first->second.size(), sink);
        held_.erase(first);
    }
}

void TcpStreamReassembler::skip_to_first_held(TcpByteSink &sink) {
    if (held_.empty()) return;
    const uint64_t lost = held_.begin()->first - next_;
    ++counters_.gaps;
    counters_.gap_bytes += lost;
    sink.on_gap(lost);
    next_ = held_.begin()->first;
    recent_.clear();
    deliver_held(sink);
}

}  // namespace tapsift::dataplane
