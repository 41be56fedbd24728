// Project-owned stand-in for Vitis HLS's hls::stream<T>, used only when <hls_stream.h> is absent.
// C simulation runs on the host, so the FIFO may use the heap here; kernel code never sees that.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <deque>

namespace hls {

template <typename T>
class stream {
  public:
    stream() = default;
    explicit stream(const char *name) : name_(name) {}

    bool empty() const { return fifo_.empty(); }
    bool full() const { return false; }
    void write(const T &v) { fifo_.push_back(v); }

    // Reading an empty stream is a deadlock in hardware; C simulation must not hide it.
    T read() {
        if (fifo_.empty()) {
            std::fprintf(stderr,
                         "hls::stream '%s': read on empty stream (hardware would deadlock)\n",
                         name_);
            std::abort();
        }
        T v = fifo_.front();
        fifo_.pop_front();
        return v;
    }

  private:
    const char *name_ = "unnamed";
    std::deque<T> fifo_;
};

}  // namespace hls
