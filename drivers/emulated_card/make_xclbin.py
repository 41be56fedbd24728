#!/usr/bin/python3
"""Writes the emulated card's default xclbin: an axlf header (xrt/xclbin.h) with the xclbin2
magic, no sections and a fixed uuid. The emulated card serves the kernel signature table's
kernels, so it needs no metadata; a real card needs a real xclbin.
Usage: make_xclbin.py OUT"""
import struct
import sys
import uuid

UUID = uuid.UUID("7a500000-7e57-4ca4-8d00-e0a1a7ed0001")  # tapsift emulated card, version 1
AXLF_BYTES = 496  # sizeof(struct axlf), static-asserted in xclbin.h
HEADER_AT = 304   # offsetof(struct axlf, m_header)

axlf = bytearray(AXLF_BYTES)
axlf[0:8] = b"xclbin2\0"
struct.pack_into("<i", axlf, 8, -1)           # m_signature_length: unsigned
axlf[12:40] = b"\xff" * 28                     # reserved
axlf[40:296] = b"\xff" * 256                   # m_keyBlock
struct.pack_into("<Q", axlf, HEADER_AT, AXLF_BYTES)            # m_header.m_length
struct.pack_into("<HBB", axlf, HEADER_AT + 24, 0, 2, 1)        # version 2.1.0
axlf[HEADER_AT + 48:HEADER_AT + 112] = b"tapsift:emulated_card".ljust(64, b"\0")  # m_platformVBNV
axlf[HEADER_AT + 112:HEADER_AT + 128] = UUID.bytes                # uuid
with open(sys.argv[1], "wb") as f:
    f.write(axlf)
