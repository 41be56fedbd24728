// RFC 6587 framing of one syslog TCP stream (one direction, client to server): splits the
// reassembled byte stream into syslog messages. The framing (octet-counting "LEN SP MSG", or
// non-transparent: a message ended by LF, or NUL as rsyslog accepts) is detected once per
// connection, at its first frame boundary. After a gap (lost bytes) or a stream picked up
// mid-way, framing resumes at once if a frame header ("<PRI>", or "LEN SP <") starts the bytes
// that follow; otherwise bytes are skipped up to the next frame boundary found; a message cut by a
// gap is counted and never merged with the next one. Buffering is bounded by max_message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tapsift::dataplane {

enum class SyslogTcpFraming : uint8_t { kUnknown, kOctetCounting, kNonTransparent };

// Every byte fed ends in exactly one of these (or is still pending()).
struct SyslogTcpFramerCounters {
    uint64_t messages = 0;
    uint64_t framed_bytes = 0;   // message bytes plus their headers and delimiters
    uint64_t skipped_bytes = 0;  // skipped while looking for a frame boundary
    uint64_t cut_messages = 0;   // a message cut by a gap or by the end of the stream
    uint64_t cut_bytes = 0;
    uint64_t oversize_messages = 0;  // longer than max_message: dropped whole
    uint64_t oversize_bytes = 0;
    uint64_t bad_headers = 0;  // an octet-counting header that is not "NONZERO-DIGIT *DIGIT SP"
    uint64_t resyncs = 0;      // a frame boundary found again after a gap or a bad header
};

class SyslogTcpFrameSink {
  public:
    virtual void on_message(const uint8_t *data, size_t len) = 0;

  protected:
    ~SyslogTcpFrameSink() = default;
};

class SyslogTcpFramer {
  public:
    // at_stream_start: the SYN was seen, so the first byte is a frame boundary.
    SyslogTcpFramer(size_t max_message, bool at_stream_start);

    void feed(const uint8_t *data, size_t len, SyslogTcpFrameSink &sink);
    // Bytes were lost before the next feed(): a pending message is cut, and framing resumes at the
    // next frame boundary found.
    void gap();
    // FIN or RST: a non-transparent message without its delimiter is emitted (rsyslog does the
    // same at close); a partial octet-counted message is cut.
    void finish(SyslogTcpFrameSink &sink);

    SyslogTcpFraming framing() const { return framing_; }
    size_t pending() const { return buf_.size() - pos_; }
    // Bytes allocated for the buffer: at most max_message plus a header.
    size_t buffer_capacity() const { return buf_.capacity(); }
    const SyslogTcpFramerCounters &counters() const { return counters_; }

  private:
    enum class Step : uint8_t { kProgress, kNeedMore };
    Step step(SyslogTcpFrameSink &sink);
    Step resync();
    enum class Probe : uint8_t { kYes, kNo, kMaybe };  // kMaybe: more bytes will tell
    Probe frame_starts_at(size_t p, bool delimited, bool octet) const;
    void sync_at(size_t p, SyslogTcpFraming framing);
    Step octet_frame(SyslogTcpFrameSink &sink);
    Step delimited_frame(SyslogTcpFrameSink &sink);
    void emit(size_t msg_begin, size_t msg_len, size_t frame_len, SyslogTcpFrameSink &sink);
    void compact();

    size_t max_message_;
    bool synced_;
    bool resyncing_ = false;  // synced_ was lost after a first sync: the next sync is a resync
    // The next byte follows a gap or starts a stream picked up mid-way: senders write whole
    // messages per segment, so it is a frame boundary if a frame header starts there.
    bool probe_start_;
    SyslogTcpFraming framing_ = SyslogTcpFraming::kUnknown;
    uint64_t oversize_skip_ = 0;  // bytes still to drop of an oversize octet-counted message
    std::vector<uint8_t> buf_;
    size_t pos_ = 0;
    SyslogTcpFramerCounters counters_;
};

}  // namespace tapsift::dataplane
