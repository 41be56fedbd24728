// Project-owned stand-in for Vitis HLS's ap_uint<W>, used only when <ap_int.h> is absent.
// g++ has no integer wider than 64 bits, so wide values are arrays of 64-bit words,
// least significant word first (the same byte order as a little-endian DMA beat).
#pragma once

#define TAPSIFT_AP_INT_COMPAT 1

#include <cstdint>
#include <cstring>

template <int W>
class ap_uint {
    static_assert(W > 0 && W <= 4096, "ap_uint width out of range");

  public:
    static constexpr int kWords = (W + 63) / 64;

    ap_uint() = default;
    ap_uint(uint64_t v) {  // NOLINT(google-explicit-constructor): Vitis converts implicitly too
        words_[0] = v;
        mask_top();
    }

    // Bits [hi, lo] as an integer; the range may not be wider than 64 bits.
    uint64_t range(int hi, int lo) const {
        const int width = hi - lo + 1;
        const int word = lo / 64;
        const int shift = lo % 64;
        uint64_t v = words_[word] >> shift;
        if (shift != 0 && shift + width > 64 && word + 1 < kWords)
            v |= words_[word + 1] << (64 - shift);
        return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
    }

    void set_range(int hi, int lo, uint64_t value) {
        const int width = hi - lo + 1;
        if (lo / 64 == hi / 64) {  // the common case: a field inside one word
            const uint64_t field = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
            const uint64_t mask = field << (lo % 64);
            words_[lo / 64] = (words_[lo / 64] & ~mask) | ((value << (lo % 64)) & mask);
            return;
        }
        for (int bit = lo; bit <= hi; ++bit) {
            const uint64_t one = uint64_t{1} << (bit % 64);
            if ((value >> (bit - lo)) & 1) {
                words_[bit / 64] |= one;
            } else {
                words_[bit / 64] &= ~one;
            }
        }
    }

    // Byte views for C simulation: the words are little-endian, so this is one copy.
    void to_bytes(uint8_t *out) const { std::memcpy(out, words_, W / 8); }
    void from_bytes(const uint8_t *in) { std::memcpy(words_, in, W / 8); }

    bool operator[](int bit) const { return (words_[bit / 64] >> (bit % 64)) & 1; }
    uint64_t to_uint64() const { return words_[0]; }
    bool operator==(const ap_uint &o) const {
        return std::memcmp(words_, o.words_, sizeof words_) == 0;
    }

  private:
    void mask_top() {
        if (W < 64) words_[0] &= (uint64_t{1} << (W % 64)) - 1;
    }
    uint64_t words_[kWords] = {};
};
