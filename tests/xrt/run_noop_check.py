#!/usr/bin/python3
"""Runs noop_metadata_check against an xclbin under Debian's real XRT in noop emulation.

  run_noop_check.py PROGRAM XCLBIN XRT_LIB_DIR [--expect-fail REGEX]

XRT loads its noop shim from $XILINX_XRT/lib/, not from the multiarch folder Debian installs it
in, so this makes a throwaway XILINX_XRT whose lib links to XRT_LIB_DIR.
Pass: exit 0, the program's OK line, and no [XRT] WARNING or ERROR (XRT only warns when a
buffer sits in a bank the compute unit is not connected to).
With --expect-fail: a non-zero exit and REGEX in the output: the check must bite.
"""
import os
import re
import subprocess
import sys
import tempfile


def main(argv):
    if len(argv) not in (4, 6) or (len(argv) == 6 and argv[4] != "--expect-fail"):
        sys.exit(__doc__)
    program, xclbin, xrt_lib = argv[1:4]
    expect = argv[5] if len(argv) == 6 else None
    shim = os.path.join(xrt_lib, "libxrt_noop.so.2")
    if not os.path.exists(shim):
        sys.exit(f"FAIL: {shim} is missing (Debian package libxrt1)")
    with tempfile.TemporaryDirectory(prefix="tapsift-xrt-") as root:
        os.symlink(xrt_lib, os.path.join(root, "lib"))
        env = dict(os.environ, XILINX_XRT=root, XCL_EMULATION_MODE="noop")
        p = subprocess.run([program, xclbin], env=env, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    print(out)
    print(f"exit status {p.returncode}")
    xrt_complaint = re.search(r"\[XRT\] (WARNING|ERROR)", out)
    if expect is None:
        if p.returncode != 0 or xrt_complaint or "OK: the xrt backend drove every compute unit" not in out:
            sys.exit("FAIL: the xclbin and the description disagree (see above)")
        print("PASS")
        return
    if p.returncode == 0 and not xrt_complaint:
        sys.exit("FAIL: a deliberately wrong xclbin was accepted")
    if not re.search(expect, out):
        sys.exit(f"FAIL: it failed, but not with the expected message /{expect}/")
    print(f"PASS: rejected as expected (/{expect}/)")


if __name__ == "__main__":
    main(sys.argv)
