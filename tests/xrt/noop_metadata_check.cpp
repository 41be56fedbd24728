// The noop metadata check: Debian's real XRT, under XCL_EMULATION_MODE=noop, loads an xclbin and
// this program drives every compute unit of every kernel in the generated signature table the
// way the xrt backend does: open the CU by name, a buffer for each buffer argument in the bank
// the description gives, every argument set by index, start, wait.
//
// What XRT 2.13 itself rejects (measured; docs/kernel-interface.md): an unknown kernel or CU
// name, an argument index past the xclbin's arguments, a buffer in a bank that no CU of the
// kernel is connected to (an exception, or a "[XRT] WARNING ... Allocating local copy" that
// run_noop_check.py turns into a failure). What it does not check, so this program compares
// XRT's own parse of the xclbin (xrt::xclbin) with the table: argument names, count and sizes
// (set_arg copies min(declared, given) bytes of a scalar without complaint), CU counts, and
// each argument's bank as kernel.group_id reports it.
#include <cstdio>
#include <iterator>
#include <exception>
#include <stdexcept>
#include <string>

#include <experimental/xrt_xclbin.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "flow_parse/flow_parse.hpp"
#include "kernel_signatures.hpp"

namespace ki = tapsift::kernel_interface;

namespace {

constexpr size_t kBoBytes = 4096;

int g_mismatches = 0;

void mismatch(const std::string &what) {
    std::fprintf(stderr, "MISMATCH: %s\n", what.c_str());
    ++g_mismatches;
}

// Scalars are set with the kernels' own C++ types (kernel_signature_asserts.cpp ties those
// types to the table), as the backend sets them.
void set_scalar(xrt::run &run, const ki::KernelSignature &k, uint32_t i) {
    const std::string name = std::string(k.name) + "." + k.args[i].name;
    const int index = static_cast<int>(i);
    if (name == "syslog_sift.rfc3164_utc_offset_s") {
        run.set_arg(index, int32_t{0});
    } else if (name == "flow_sift.max_items") {
        run.set_arg(index, uint32_t{16});
    } else if (name == "flow_sift.config") {
        run.set_arg(index, tapsift::hls_kernels::FlowParseConfig{5400LL * 1000000000});
    } else {
        throw std::runtime_error("no C++ type known for scalar " + name);
    }
}

// banks: the description's [compute unit][argument] banks for the xclbin's platform.
void run_cu(xrt::device &device, const xrt::uuid &uuid, const ki::KernelSignature &k,
            const uint32_t *banks, uint32_t cu) {
    const std::string cu_name = std::string(k.name) + "_" + std::to_string(cu + 1);
    xrt::kernel kernel(device, uuid, std::string(k.name) + ":{" + cu_name + "}");
    xrt::run run(kernel);
    for (uint32_t i = 0; i < k.arg_count; ++i) {
        const ki::ArgSignature &a = k.args[i];
        if (a.kind == ki::ArgKind::kScalar) {
            set_scalar(run, k, i);
            continue;
        }
        const uint32_t bank = banks[cu * k.arg_count + i];
        const int group = kernel.group_id(static_cast<int>(i));
        if (group < 0 || static_cast<uint32_t>(group) != bank)
            mismatch(cu_name + "." + a.name + ": bank " + std::to_string(group) +
                     " in the xclbin, " + std::to_string(bank) + " in the description");
        xrt::bo bo(device, kBoBytes, bank);
        bo.sync(XCL_BO_SYNC_BO_TO_DEVICE);
        run.set_arg(static_cast<int>(i), bo);
    }
    run.start();
    run.wait();
    std::printf("%s: %u arguments set, run started and waited\n", cu_name.c_str(), k.arg_count);
}

// XRT's parse of the xclbin against the table: what set_arg does not check.
void compare_parsed(const xrt::xclbin &xclbin, const ki::KernelSignature &k) {
    const std::string kn = k.name;
    const xrt::xclbin::kernel xk = xclbin.get_kernel(kn);
    if (!xk) return mismatch(kn + ": not in the xclbin");
    if (xk.get_cus().size() != k.compute_units)
        mismatch(kn + ": " + std::to_string(xk.get_cus().size()) +
                 " compute units in the xclbin, " + std::to_string(k.compute_units) +
                 " in the description");
    const auto args = xk.get_args();
    if (args.size() != k.arg_count)
        mismatch(kn + ": " + std::to_string(args.size()) + " arguments in the xclbin, " +
                 std::to_string(k.arg_count) + " in the description");
    for (const auto &xa : args) {
        const size_t i = xa.get_index();
        if (i >= k.arg_count) continue;  // counted above
        const ki::ArgSignature &a = k.args[i];
        if (xa.get_name() != a.name)
            mismatch(kn + " argument " + std::to_string(i) + ": named " + xa.get_name() +
                     " in the xclbin, " + a.name + " in the description");
        if (xa.get_size() != a.size)
            mismatch(kn + "." + a.name + ": " + std::to_string(xa.get_size()) +
                     " bytes in the xclbin, " + std::to_string(a.size) + " in the description");
    }
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s XCLBIN  (with XCL_EMULATION_MODE=noop)\n", argv[0]);
        return 2;
    }
    try {
        xrt::device device(0);
        const xrt::uuid uuid = device.load_xclbin(argv[1]);
        const xrt::xclbin xclbin(argv[1]);
        const std::string platform = xclbin.get_xsa_name();
        for (const ki::KernelSignature &k : ki::kKernels) {
            const uint32_t *banks = ki::find_cu_groups(platform, k.name);
            if (!banks)
                throw std::runtime_error("the description has no banks for platform " + platform);
            for (uint32_t cu = 0; cu < k.compute_units; ++cu) run_cu(device, uuid, k, banks, cu);
            compare_parsed(xclbin, k);
        }
        if (xclbin.get_kernels().size() != std::size(ki::kKernels))
            mismatch(std::to_string(xclbin.get_kernels().size()) + " kernels in the xclbin, " +
                     std::to_string(std::size(ki::kKernels)) + " in the description");
    } catch (const std::exception &e) {
        std::fprintf(stderr, "XRT error: %s\n", e.what());
        return 1;
    }
    if (g_mismatches) {
        std::fprintf(stderr, "FAIL: %d mismatches between the xclbin and the description\n",
                     g_mismatches);
        return 1;
    }
    std::printf("OK: every compute unit of every kernel opened, set, started and waited\n");
    return 0;
}
