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

    if (off > static_cast<int64_t>(next_) + static_cast<int64_t>(window_)) {
        counters_.out_of_window_bytes += seg.len;
        return TcpSegmentOutcome::kOutOfWindow;
    }
    Piece piece{off, seg.payload, seg.len};
    bool conflict = false;
    const TcpSegmentOutcome outcome = place(piece, conflict, sink);
    if (conflict) ++counters_.conflict_segments;
    return outcome;
}

TcpSegmentOutcome TcpStreamReassembler::place(Piece &piece, bool &conflict, TcpByteSink &sink) {
    trim_delivered(piece, conflict);
    if (piece.len == 0) return TcpSegmentOutcome::kDuplicate;
    if (static_cast<uint64_t>(piece.off) > next_ && held_bytes_ + piece.len > max_held_) {
        // No room to wait any longer for the missing bytes: skip the gap, then look again.
        skip_to_first_held(sink);
        trim_delivered(piece, conflict);
        if (piece.len == 0) return TcpSegmentOutcome::kDuplicate;
        if (static_cast<uint64_t>(piece.off) > next_ && held_bytes_ + piece.len > max_held_) {
            counters_.over_budget_bytes += piece.len;
            return TcpSegmentOutcome::kOverBudget;
        }
    }
    const size_t fresh = hold(static_cast<uint64_t>(piece.off), piece.data, piece.len, conflict);
    counters_.duplicate_bytes += piece.len - fresh;
    deliver_held(sink);
    return fresh > 0 ? TcpSegmentOutcome::kUsed : TcpSegmentOutcome::kDuplicate;
}

// The front already delivered is dropped (the first copy wins), compared with what was delivered.
void TcpStreamReassembler::trim_delivered(Piece &piece, bool &conflict) {
    const int64_t next = static_cast<int64_t>(next_);
    if (piece.off >= next) return;
    const size_t seen = static_cast<size_t>(std::min<int64_t>(next - piece.off, piece.len));
    compare_delivered(piece.off, piece.data, seen, conflict);
    counters_.duplicate_bytes += seen;
    piece.off += static_cast<int64_t>(seen);
    piece.data += seen;
    piece.len -= seen;
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
