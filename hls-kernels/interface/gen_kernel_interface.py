#!/usr/bin/python3
"""Generates everything that depends on the card kernels' interface from kernels.json.

  gen_kernel_interface.py header       JSON OUT.hpp KERNELS_DIR C++ signature table; checks the
                                                                kernels' #pragma HLS INTERFACE lines
  gen_kernel_interface.py vitis-tops   JSON OUT.cpp             extern "C" tops for v++ -c -k
  gen_kernel_interface.py connectivity JSON PLATFORM OUT.cfg    v++ --connectivity config
  gen_kernel_interface.py xclbin       JSON PLATFORM OUT.xclbin [--break WHAT]
  gen_kernel_interface.py vpp-platform JSON PLATFORM            prints the Vitis platform name
  gen_kernel_interface.py sources      JSON KERNEL              prints the kernel's source files
  gen_kernel_interface.py clock        JSON KERNEL              prints the kernel's clock in Hz

The xclbin is metadata only (no bitstream): the sections XRT reads to open kernels and check
their arguments, written from the structs in XRT's xclbin.h. --break writes a deliberately wrong
one (see BREAKS) so the noop check can prove it fails.
Standard library only: it runs at build time from CMake and from the Vitis Makefile.
"""

import hashlib
import json
import re
import struct
import sys

# xclbin.h: enum axlf_section_kind, MEM_TYPE, IP_TYPE, IP_CONTROL.
EMBEDDED_METADATA, MEM_TOPOLOGY, CONNECTIVITY, IP_LAYOUT, CLOCK_FREQ_TOPOLOGY = 2, 6, 7, 8, 11
MEM_TYPES = {"DDR4": 1, "HBM": 6}
IP_KERNEL = 1
AP_CTRL_HS = 0
IP_CONTROL_SHIFT = 8
CT_DATA = 1  # enum CLOCK_TYPE

CU_BASE = 0x1800000       # first CU's AXI-lite base, as Vitis places them on these shells
CU_RANGE = 0x10000        # 64 KiB register window per CU
ARG_OFFSET0 = 0x10        # Vitis HLS: ap_ctrl, GIE, IER, ISR, then the arguments

BREAKS = {
    "arg-size": "flow_sift's config argument is 4 bytes instead of 8",
    "arg-missing": "syslog_sift's last argument (counters) is absent",
    "kernel-renamed": "flow_sift is named flow_sift_v0",
    "cu-missing": "syslog_sift has one compute unit fewer",
    "bank": "syslog_sift's ingest sits on another bank than the description says",
}


def fail(msg):
    sys.exit(f"gen_kernel_interface: {msg}")


def load(path):
    with open(path, encoding="utf-8") as f:
        desc = json.load(f)
    for k in desc["kernels"]:
        args = k["args"]
        if [a["index"] for a in args] != list(range(len(args))):
            fail(f"{k['name']}: argument indices must be 0..n-1 in order")
        for a in args:
            if a["kind"] not in ("buffer", "scalar"):
                fail(f"{k['name']}.{a['name']}: kind must be buffer or scalar")
            if a["kind"] == "buffer" and a["size"] != 8:
                fail(f"{k['name']}.{a['name']}: a buffer argument is a 64-bit address (size 8)")
        if k["compute_units"] < 1:
            fail(f"{k['name']}: needs at least one compute unit")
    for pname, p in desc["platforms"].items():
        for k in desc["kernels"]:
            banks = p["banks"].get(k["name"], {})
            for a in k["args"]:
                if a["kind"] == "buffer" and not banks.get(a["name"]):
                    fail(f"{pname}: no bank for {k['name']}.{a['name']}")
                for b in banks.get(a["name"], []):
                    bank_index(p, b)
    return desc


def check_pragmas(desc, kernels_dir):
    """The kernel's own #pragma HLS INTERFACE lines must agree with the description: every
    buffer argument an m_axi port on its bundle, every scalar an s_axilite port."""
    for k in desc["kernels"]:
        with open(f"{kernels_dir}/{k['sources'][0]}", encoding="utf-8") as f:
            text = f.read()
        found = {}
        for m in re.finditer(r"#pragma HLS INTERFACE (m_axi|s_axilite) port = (\w+)(.*)", text):
            bundle = re.search(r"bundle = (\w+)", m.group(3))
            found[m.group(2)] = (m.group(1), bundle.group(1) if bundle else None)
        for a in k["args"]:
            want = ("m_axi", a["bundle"]) if a["kind"] == "buffer" else ("s_axilite", None)
            if found.pop(a["name"], None) != want:
                fail(f"{k['sources'][0]}: {a['name']} is not {want[0]} {want[1] or ''} "
                     f"as kernels.json says")
        found.pop("return", None)
        if found:
            fail(f"{k['sources'][0]}: interface ports missing from kernels.json: {sorted(found)}")


def bank_index(platform, bank):
    m = re.fullmatch(r"([A-Z]+)\[(\d+)\]", bank)
    mem = platform["memory"]
    if not m or m.group(1) != mem["prefix"] or int(m.group(2)) >= mem["count"]:
        fail(f"bad bank {bank!r} for a platform with {mem['prefix']}[0..{mem['count'] - 1}]")
    return int(m.group(2))


def cu_names(kernel):
    return [f"{kernel['name']}_{i + 1}" for i in range(kernel["compute_units"])]


def cu_bank(platform, kernel, arg, cu):
    banks = platform["banks"][kernel["name"]][arg["name"]]
    return banks[cu % len(banks)]


# ---------------------------------------------------------------------------- C++ header

def gen_header(desc):
    meta = desc["metadata_platforms"][0]
    platform = desc["platforms"][meta]
    out = [
        "// Generated by hls-kernels/interface/gen_kernel_interface.py from kernels.json: do not edit.",
        "// The card kernels' XRT arguments, by index, as the xclbin declares them.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "#include <string_view>",
        "",
        "namespace tapsift::kernel_interface {",
        "",
        "enum class ArgKind : uint8_t { kBuffer, kScalar };",
        "",
        "// size: the bytes XRT checks in set_arg (8 for a buffer: its 64-bit device address).",
        "// group: the memory bank (MEM_TOPOLOGY index) of compute unit 1 in the metadata xclbin;",
        "// kNoGroup for a scalar.",
        "struct ArgSignature {",
        "    const char *name;",
        "    ArgKind kind;",
        "    uint32_t size;",
        "    uint32_t group;",
        "};",
        "",
        "// cu_groups: [compute unit][argument] banks in the metadata xclbin (kNoGroup for scalars).",
        "struct KernelSignature {",
        "    const char *name;",
        "    uint32_t arg_count;",
        "    const ArgSignature *args;",
        "    uint32_t compute_units;",
        "    const uint32_t *cu_groups;",
        "};",
        "",
        "inline constexpr uint32_t kNoGroup = 0xffffffffu;",
        f'inline constexpr const char *kMetadataPlatform = "{meta}";',
        "",
    ]
    def groups(pname, k, cu):
        p = desc["platforms"][pname]
        return [str(bank_index(p, cu_bank(p, k, a, cu))) if a["kind"] == "buffer" else "kNoGroup"
                for a in k["args"]]

    for k in desc["kernels"]:
        out.append(f"inline constexpr ArgSignature k_{k['name']}_args[] = {{")
        for a, group in zip(k["args"], groups(meta, k, 0)):
            kind = "ArgKind::kBuffer" if a["kind"] == "buffer" else "ArgKind::kScalar"
            out.append(f'    {{"{a["name"]}", {kind}, {a["size"]}, {group}}},  // {a["c_type"]}')
        out.append("};")
        for pname in desc["platforms"]:
            out.append(f"inline constexpr uint32_t k_{k['name']}_{pname}_cu_groups[] = {{")
            for cu, cname in enumerate(cu_names(k)):
                out.append(f"    {', '.join(groups(pname, k, cu))},  // {cname}")
            out.append("};")
        out.append("")
    out.append("inline constexpr KernelSignature kKernels[] = {")
    for k in desc["kernels"]:
        out.append(f'    {{"{k["name"]}", {len(k["args"])}, k_{k["name"]}_args, '
                   f'{k["compute_units"]}, k_{k["name"]}_{meta}_cu_groups}},')
    out.append("};")
    out += [
        "",
        "// The same banks for every platform the description knows, by Vitis platform name.",
        "struct PlatformBanks {",
        "    const char *vitis_platform;",
        "    const char *kernel;",
        "    const uint32_t *cu_groups;  // [compute unit][argument]",
        "};",
        "",
        "inline constexpr PlatformBanks kPlatformBanks[] = {",
    ]
    for pname, p in desc["platforms"].items():
        for k in desc["kernels"]:
            out.append(f'    {{"{p["vitis_platform"]}", "{k["name"]}", k_{k["name"]}_{pname}_cu_groups}},')
    out += [
        "};",
        "",
        "constexpr const uint32_t *find_cu_groups(std::string_view vitis_platform, std::string_view kernel) {",
        "    for (const PlatformBanks &b : kPlatformBanks)",
        "        if (vitis_platform == b.vitis_platform && kernel == b.kernel) return b.cu_groups;",
        "    return nullptr;",
        "}",
        "",
        "constexpr const KernelSignature *find_kernel(std::string_view name) {",
        "    for (const KernelSignature &k : kKernels)",
        "        if (name == k.name) return &k;",
        "    return nullptr;",
        "}",
        "",
        "}  // namespace tapsift::kernel_interface",
        "",
    ]
    return "\n".join(out)


# ---------------------------------------------------------------------- v++ kernel tops

def gen_vitis_tops(desc):
    """v++ -c -k NAME needs a top function with C linkage (UG1393); the kernels are C++
    functions in tapsift::hls_kernels. Each top here carries the INTERFACE pragmas the
    description gives and calls the kernel, so the host build and v++ compile the same code."""
    out = [
        "// Generated by hls-kernels/interface/gen_kernel_interface.py from kernels.json: do not edit.",
        "// The extern \"C\" tops v++ -c -k compiles (hls-kernels/vitis/Makefile). The host build",
        "// compiles this file too (never linked), so a signature drift fails here first.",
    ]
    for k in desc["kernels"]:
        out.append(f'#include "{k["sources"][0].replace(".cpp", ".hpp")}"')
    out += ["", "namespace tapsift::vitis_top {", "using namespace tapsift::hls_kernels;", ""]
    for k in desc["kernels"]:
        params = ", ".join(f"{a['c_type']}{'' if a['c_type'].endswith('*') else ' '}{a['name']}"
                           for a in k["args"])
        out.append(f'extern "C" void {k["name"]}({params}) {{')
        for a in k["args"]:
            if a["kind"] == "buffer":
                out.append(f"#pragma HLS INTERFACE m_axi port = {a['name']} offset = slave "
                           f"bundle = {a['bundle']}")
            else:
                out.append(f"#pragma HLS INTERFACE s_axilite port = {a['name']}")
        out.append("#pragma HLS INTERFACE s_axilite port = return")
        out.append(f"    {k['c_function']}({', '.join(a['name'] for a in k['args'])});")
        out.append("}")
        out.append("")
    out += ["}  // namespace tapsift::vitis_top", ""]
    return "\n".join(out)


# ------------------------------------------------------------------ v++ connectivity config

def gen_connectivity(desc, pname):
    p = desc["platforms"][pname]
    out = [f"# Generated by gen_kernel_interface.py from kernels.json for {pname} "
           f"({p['vitis_platform']}): do not edit.",
           "# v++ -l --config this_file: compute units (nk) and each buffer port's bank (sp).",
           "[connectivity]"]
    for k in desc["kernels"]:
        out.append(f"nk={k['name']}:{k['compute_units']}:{'.'.join(cu_names(k))}")
    for k in desc["kernels"]:
        for cu, cname in enumerate(cu_names(k)):
            for a in k["args"]:
                if a["kind"] == "buffer":
                    out.append(f"sp={cname}.{a['name']}:{cu_bank(p, k, a, cu)}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------- metadata xclbin

def register_offsets(kernel):
    """AXI-lite offsets as Vitis HLS lays them out: each argument's data words, then one
    reserved word (a 64-bit pointer at 0x10 puts the next argument at 0x1c)."""
    offsets, off = [], ARG_OFFSET0
    for a in kernel["args"]:
        offsets.append(off)
        off += (a["size"] + 3) // 4 * 4 + 4
    return offsets


def apply_break(desc, what):
    """A deliberately wrong copy of the description, for the check that must fail."""
    desc = json.loads(json.dumps(desc))
    ks = {k["name"]: k for k in desc["kernels"]}
    if what == "arg-size":
        next(a for a in ks["flow_sift"]["args"] if a["name"] == "config")["size"] = 4
    elif what == "arg-missing":
        ks["syslog_sift"]["args"].pop()
    elif what == "kernel-renamed":
        for p in desc["platforms"].values():
            p["banks"]["flow_sift_v0"] = p["banks"].pop("flow_sift")
        ks["flow_sift"]["name"] = "flow_sift_v0"
    elif what == "cu-missing":
        ks["syslog_sift"]["compute_units"] -= 1
    elif what == "bank":
        for p in desc["platforms"].values():
            count = p["memory"]["count"]
            banks = p["banks"]["syslog_sift"]["ingest"]
            p["banks"]["syslog_sift"]["ingest"] = [
                f"{p['memory']['prefix']}[{(bank_index(p, b) + 3) % count}]" for b in banks]
    else:
        fail(f"unknown --break {what!r}; one of {', '.join(BREAKS)}")
    return desc


def xml_metadata(desc, pname, cus):
    """EMBEDDED_METADATA: the XML XRT reads kernels, arguments and instances from
    (xclbin_parser.cpp: project.platform.device.core.kernel)."""
    p = desc["platforms"][pname]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<project name="tapsift_meta">',
        f'  <platform vendor="xilinx" boardid="{pname}" name="{p["vitis_platform"]}" featureRomTime="0">',
        '    <version major="2" minor="1"/>',
        '    <description/>',
        '    <device name="fpga0" fpgaDevice="" addrWidth="0">',
        '      <systemClocks/>',
        f'      <core name="OCL_REGION_0" target="hw" type="clc_region" clockFreq="0MHz" '
        f'numComputeUnits="{len(cus)}">',
        '        <kernelClocks>',
        '          <clock port="KERNEL_CLK" frequency="300MHz"/>',
        '          <clock port="DATA_CLK" frequency="300MHz"/>',
        '        </kernelClocks>',
    ]
    for k in desc["kernels"]:
        lines.append(f'        <kernel name="{k["name"]}" language="c" '
                     f'vlnv="xilinx.com:hls:{k["name"]}:1.0" preferredWorkGroupSizeMultiple="0" '
                     f'workGroupSize="1" interrupt="true" hwControlProtocol="ap_ctrl_hs">')
        bundles = sorted({a["bundle"] for a in k["args"] if a["kind"] == "buffer"})
        for b in bundles:
            lines.append(f'          <port name="M_AXI_{b.upper()}" mode="master" '
                         f'range="0xFFFFFFFFFFFFFFFF" dataWidth="512" portType="addressable" base="0x0"/>')
        lines.append(f'          <port name="S_AXI_CONTROL" mode="slave" range="{CU_RANGE:#x}" '
                     f'dataWidth="32" portType="addressable" base="0x0"/>')
        for a, off in zip(k["args"], register_offsets(k)):
            buffer = a["kind"] == "buffer"
            port = f'M_AXI_{a["bundle"].upper()}' if buffer else "S_AXI_CONTROL"
            ctype = "void*" if buffer else a["c_type"]
            lines.append(f'          <arg name="{a["name"]}" addressQualifier="{1 if buffer else 0}" '
                         f'id="{a["index"]}" port="{port}" size="{a["size"]:#x}" offset="{off:#x}" '
                         f'hostOffset="0x0" hostSize="{a["size"]:#x}" type="{ctype}"/>')
        for (kname, cname, base) in cus:
            if kname == k["name"]:
                lines.append(f'          <instance name="{cname}">')
                lines.append(f'            <addrRemap base="{base:#x}" range="{CU_RANGE:#x}" '
                             f'port="S_AXI_CONTROL"/>')
                lines.append('          </instance>')
        lines.append('        </kernel>')
    lines += ['      </core>', '    </device>', '  </platform>', '</project>', '']
    return "\n".join(lines).encode()


def cstr(s, n):
    b = s.encode()
    if len(b) >= n:
        fail(f"name {s!r} longer than {n - 1} bytes")
    return b + b"\0" * (n - len(b))


def gen_xclbin(desc, pname):
    p = desc["platforms"][pname]
    mem = p["memory"]
    cus = []  # (kernel, cu name, base address), sorted by base address as IP_LAYOUT must be
    for k in desc["kernels"]:
        for cname in cu_names(k):
            cus.append((k["name"], cname, CU_BASE + CU_RANGE * len(cus)))

    connections = []  # (arg index, ip_layout index, mem_data index)
    for ip, (kname, _, _) in enumerate(cus):
        k = next(k for k in desc["kernels"] if k["name"] == kname)
        cu = [c[0] for c in cus[:ip]].count(kname)
        for a in k["args"]:
            if a["kind"] == "buffer":
                connections.append((a["index"], ip, bank_index(p, cu_bank(p, k, a, cu))))
    used = {c[2] for c in connections}

    # struct mem_topology { int32_t m_count; struct mem_data m_mem_data[]; } (8-byte aligned)
    mem_topology = struct.pack("<i4x", mem["count"])
    for i in range(mem["count"]):
        size_kib = mem["bank_kib"]
        mem_topology += struct.pack("<BB6xQQ16s", MEM_TYPES[mem["mem_type"]], 1 if i in used else 0,
                                    size_kib, i * size_kib * 1024, cstr(f"{mem['prefix']}[{i}]", 16))

    # struct ip_layout { int32_t m_count; struct ip_data m_ip_data[]; }
    ip_layout = struct.pack("<i4x", len(cus))
    for kname, cname, base in cus:
        props = AP_CTRL_HS << IP_CONTROL_SHIFT | 1  # interrupt enabled, interrupt id 0
        ip_layout += struct.pack("<IIQ64s", IP_KERNEL, props, base, cstr(f"{kname}:{cname}", 64))

    # struct connectivity { int32_t m_count; struct connection m_connection[]; }
    connectivity = struct.pack("<i", len(connections))
    for c in connections:
        connectivity += struct.pack("<iii", *c)

    # struct clock_freq_topology { int16_t m_count; struct clock_freq m_clock_freq[]; }
    clocks = [(300, "DATA_CLK"), (500, "KERNEL_CLK")]
    clock_topology = struct.pack("<h", len(clocks))
    for freq, name in clocks:
        clock_topology += struct.pack("<HB5x128s", freq, CT_DATA, cstr(name, 128))

    sections = [
        (EMBEDDED_METADATA, "", xml_metadata(desc, pname, cus)),
        (MEM_TOPOLOGY, "", mem_topology),
        (IP_LAYOUT, "", ip_layout),
        (CONNECTIVITY, "", connectivity),
        (CLOCK_FREQ_TOPOLOGY, "", clock_topology),
    ]

    # struct axlf: 304 bytes up to m_header, the 152-byte axlf_header, then 40-byte section
    # headers; section data follows, each 8-byte aligned.
    header_bytes = 304 + 152 + 40 * len(sections)
    offset = (header_bytes + 7) & ~7
    layout, data = [], b""
    for kind, name, body in sections:
        pad = (-offset) % 8
        data += b"\0" * pad
        offset += pad
        layout.append((kind, name, offset, len(body)))
        data += body
        offset += len(body)
    total = offset

    # The uuid names this exact content, so XRT sees a changed description as a new xclbin.
    digest = hashlib.sha256(b"".join(s[2] for s in sections)).digest()
    uuid = bytearray(digest[:16])
    uuid[6] = (uuid[6] & 0x0F) | 0x50  # version 5 style (name-based)
    uuid[8] = (uuid[8] & 0x3F) | 0x80

    axlf = b"xclbin2\0" + struct.pack("<i", -1) + b"\xff" * 28 + b"\xff" * 256
    axlf += struct.pack("<Q", int.from_bytes(digest[16:24], "little"))  # m_uniqueId
    axlf_header = struct.pack("<QQQHBBHH16s64s16s16sI",
                              total, 0, 0,       # m_length, m_timeStamp (0: reproducible), ROM time
                              13, 2, 13,         # version 2.13.13 (patch, major, minor)
                              0, 0,              # XCLBIN_FLAT, m_actionMask
                              b"\0" * 16,        # feature ROM uuid
                              cstr(p["vitis_platform"], 64), bytes(uuid), b"\0" * 16,
                              len(sections))
    axlf_header += b"\0" * 4  # tail padding to 152 bytes (the struct is 8-byte aligned)
    assert len(axlf) == 304 and len(axlf_header) == 152
    headers = b"".join(struct.pack("<I16s4xQQ", kind, cstr(name, 16), off, size)
                       for kind, name, off, size in layout)
    blob = axlf + axlf_header + headers
    blob += b"\0" * ((header_bytes + 7 & ~7) - len(blob))
    blob += data
    assert len(blob) == total
    return blob


def write(path, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as f:
        f.write(content)


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    cmd, desc = argv[1], load(argv[2])
    if cmd in ("connectivity", "xclbin", "vpp-platform") and argv[3] not in desc["platforms"]:
        fail(f"unknown platform {argv[3]!r}; kernels.json has {', '.join(desc['platforms'])}")
    if cmd == "header" and len(argv) == 5:
        check_pragmas(desc, argv[4])
        write(argv[3], gen_header(desc))
    elif cmd == "vitis-tops" and len(argv) == 4:
        write(argv[3], gen_vitis_tops(desc))
    elif cmd == "connectivity" and len(argv) == 5:
        write(argv[4], gen_connectivity(desc, argv[3]))
    elif cmd == "xclbin" and len(argv) in (5, 7):
        if len(argv) == 7:
            if argv[5] != "--break":
                fail(__doc__)
            desc = apply_break(desc, argv[6])
        write(argv[4], gen_xclbin(desc, argv[3]))
    elif cmd == "vpp-platform" and len(argv) == 4:
        print(desc["platforms"][argv[3]]["vitis_platform"])
    elif cmd == "clock" and len(argv) == 4:
        print(next(k for k in desc["kernels"] if k["name"] == argv[3])["clock_hz"])
    elif cmd == "sources" and len(argv) == 4:
        print(" ".join(next(k for k in desc["kernels"] if k["name"] == argv[3])["sources"]))
    else:
        fail(__doc__)


if __name__ == "__main__":
    main(sys.argv)
