// Passive reassembly of one TCP direction's byte stream from the segments a tap sees: in-order
// bytes are delivered at once; out-of-order segments are held within a bounded window and byte
// budget; retransmissions and overlaps keep the first copy (and count overlaps whose bytes
// differ); a lost segment becomes a gap the sink is told about, once the budget forces it or the
// stream ends. Sequence numbers are unwrapped into 64-bit stream offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace tapsift::dataplane {

struct TcpSegment {
    uint32_t seq;
    bool syn;
    bool fin;
    bool rst;
    const uint8_t *payload;
    uint32_t len;
};

// What became of one segment: every segment gets exactly one.
enum class TcpSegmentOutcome : uint8_t {
    kUsed,         // its new bytes were delivered or held
    kDuplicate,    // nothing new: every byte was seen before (a retransmission)
    kOutOfWindow,  // starts beyond the window: not this stream's, or a sequence jump
    kOverBudget,   // no room to hold it even after skipping the gap
    kControl,      // SYN, FIN or RST without payload
    kCount
};

struct TcpStreamCounters {
    uint64_t delivered_bytes = 0;
    uint64_t duplicate_bytes = 0;  // received again (first copy kept)
    uint64_t conflict_segments =
        0;  // a retransmission or overlap whose bytes differ from the first
    uint64_t out_of_window_bytes = 0;
    uint64_t over_budget_bytes = 0;
    uint64_t gaps = 0;
    uint64_t gap_bytes = 0;  // lost: never seen on the tap
};

class TcpByteSink {
  public:
    virtual void on_bytes(const uint8_t *data, size_t len) = 0;
    virtual void on_gap(uint64_t lost_bytes) = 0;

  protected:
    ~TcpByteSink() = default;
};

class TcpStreamReassembler {
  public:
    // window: how far ahead of the next expected byte a segment may start; max_held: bytes held
    // out of order; compare_bytes: how many delivered bytes are kept to compare retransmissions.
    TcpStreamReassembler(uint32_t window, size_t max_held, size_t compare_bytes);

    TcpSegmentOutcome add(const TcpSegment &seg, TcpByteSink &sink);
    // End of stream (FIN reached, RST, idle timeout, shutdown): held bytes are delivered with the
    // gaps before them.
    void flush(TcpByteSink &sink);

    // The byte budget can shrink or grow with what other connections hold.
    void set_max_held(size_t max_held) { max_held_ = max_held; }
    bool started() const { return started_; }
    bool saw_syn() const { return saw_syn_; }
    bool finished() const { return fin_seen_ && next_ >= fin_offset_; }
    size_t held_bytes() const { return held_bytes_; }
    const TcpStreamCounters &counters() const { return counters_; }

  private:
    struct Piece {  // the part of a segment still to place
        int64_t off;
        const uint8_t *data;
        size_t len;
    };
    TcpSegmentOutcome place(Piece &piece, bool &conflict, TcpByteSink &sink);
    void trim_delivered(Piece &piece, bool &conflict);
    int64_t offset_of(uint32_t seq) const;
    void compare_delivered(int64_t off, const uint8_t *data, size_t len, bool &conflict) const;
    size_t hold(uint64_t off, const uint8_t *data, size_t len, bool &conflict);
    void deliver(const uint8_t *data, size_t len, TcpByteSink &sink);
    void deliver_held(TcpByteSink &sink);
    void skip_to_first_held(TcpByteSink &sink);

    uint32_t window_;
    size_t max_held_;
    size_t compare_bytes_;
    bool started_ = false;
    bool saw_syn_ = false;
    bool fin_seen_ = false;
    uint32_t base_seq_ = 0;  // the sequence number of stream offset 0
    uint64_t next_ = 0;      // the next stream offset expected
    uint64_t fin_offset_ = 0;
    std::map<uint64_t, std::vector<uint8_t>> held_;
    size_t held_bytes_ = 0;
    std::vector<uint8_t> recent_;  // the last compare_bytes delivered, ending at next_
    TcpStreamCounters counters_;
};

}  // namespace tapsift::dataplane
