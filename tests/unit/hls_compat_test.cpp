// The project's own ap_uint / hls::stream (used when the Vitis headers are absent).
#include <gtest/gtest.h>

#include "tapsift_hls/ap_int_compat.hpp"
#include "tapsift_hls/hls_stream_compat.hpp"

namespace {

TEST(HlsCompat, ApUintRangesAcrossWords) {
    ap_uint<512> v;
    v.set_range(7, 0, 0xab);
    v.set_range(71, 60, 0xfff);  // straddles words 0 and 1
    v.set_range(511, 504, 0x5a);
    EXPECT_EQ(v.range(7, 0), 0xabu);
    EXPECT_EQ(v.range(71, 60), 0xfffu);
    EXPECT_EQ(v.range(63, 60), 0xfu);
    EXPECT_EQ(v.range(67, 64), 0xfu);
    EXPECT_EQ(v.range(511, 504), 0x5au);
    EXPECT_EQ(v.range(127, 64), 0xffu);
    EXPECT_TRUE(v[60]);
    EXPECT_FALSE(v[72]);
    v.set_range(71, 60, 0);
    EXPECT_EQ(v.range(63, 0), 0xabu);
    EXPECT_EQ(v.range(127, 64), 0u);
}

TEST(HlsCompat, ApUintNarrowWidthMasks) {
    ap_uint<12> v(0xffff);
    EXPECT_EQ(v.to_uint64(), 0xfffu);
}

TEST(HlsCompat, StreamIsFifo) {
    hls::stream<int> s("s");
    s.write(1);
    s.write(2);
    EXPECT_EQ(s.read(), 1);
    EXPECT_EQ(s.read(), 2);
    EXPECT_TRUE(s.empty());
}

TEST(HlsCompatDeathTest, ReadingAnEmptyStreamFailsLoudly) {
    hls::stream<int> s("beats");
    EXPECT_DEATH(s.read(), "hls::stream 'beats': read on empty stream");
}

}  // namespace
