// The noop metadata check: Debian's real XRT, under XCL_EMULATION_MODE=noop, loads an xclbin, then
//
// 1. The real xrt backend: tapsift_xrt_card.so (linked to Debian's XRT), loaded as tapsift loads
//    it, behind the host's BatchHandler as in `tapsift run`. Once per flow_sift unit, it opens
//    every syslog_sift unit and that flow unit, uploads a ruleset's tables (load_tables), and
//    submits and collects one syslog batch per syslog_sift unit and one flow batch. noop computes
//    nothing, so the outputs are whatever device memory holds: XRT must accept every call (no
//    run failed or timed out; an exception or a bad name, index or bank would be one, and a
//    "[XRT] WARNING ... Allocating local copy" fails run_noop_check.py), and the host's
//    validation must count every record of the uncomputed outputs as backend_error.
// 2. What the backend cannot see, since it takes each buffer's bank from the xclbin
//    (kernel.group_id): every compute unit of every kernel in the generated signature table,
//    opened by name, each buffer argument's bank in the description against the xclbin's (and a
//    buffer there, set, started, waited); and XRT's parse of the xclbin (xrt::xclbin) against the
//    table, which set_arg does not check: argument names, count and sizes (set_arg copies
//    min(declared, given) bytes of a scalar without complaint), CU counts.
//
// What XRT 2.13 itself rejects (measured; docs/kernel-interface.md): an unknown kernel or CU
// name, an argument index past the xclbin's arguments, a buffer in a bank that no CU of the
// kernel is connected to.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <string>

#include <experimental/xrt_xclbin.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "config/config.hpp"
#include "flow_harness.hpp"
#include "flow_parse/flow_parse.hpp"
#include "ingest_batch_builder.hpp"
#include "kafka/producer.hpp"
#include "kernel_signatures.hpp"
#include "metrics/counters.hpp"
#include "offload_backend.hpp"
#include "pipeline/batch_handler.hpp"
#include "sift/ruleset.hpp"
#include "sift/ruleset_source.hpp"

namespace ki = tapsift::kernel_interface;

namespace {

constexpr size_t kBoBytes = 4096;
constexpr uint32_t kSyslogRecords = 3;  // per syslog batch

int g_failures = 0;

void mismatch(const std::string &what) {
    std::fprintf(stderr, "MISMATCH: %s\n", what.c_str());
    ++g_failures;
}

void backend_failed(const std::string &what) {
    std::fprintf(stderr, "BACKEND FAILED: %s\n", what.c_str());
    ++g_failures;
}

// A rule the prefilter decides on the card, so load_tables uploads real rule tables.
constexpr const char *kRules = R"(sift:
  rules:
    - id: drop-noise
      match: {app_name: noise}
      action: drop
kafka:
  queue_full_timeout_ms: 0
)";

tapsift::dataplane::IngestBatchBuilder syslog_batch() {
    tapsift::dataplane::IngestBatchBuilder batch(kSyslogRecords);
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    for (uint32_t i = 0; i < kSyslogRecords; ++i) {
        const std::string msg = "<13>Jan  1 00:00:00 host app: noop check " + std::to_string(i);
        batch.add({addr, addr, 40000, 514, tapsift::wire::RecordKind::kSyslog, 0, 0, 0, 1, i + 1},
                  reinterpret_cast<const uint8_t *>(msg.data()), static_cast<uint32_t>(msg.size()));
    }
    return batch;
}

tapsift::dataplane::IngestBatchBuilder flow_batch() {
    namespace t = tapsift::testing;
    tapsift::dataplane::IngestBatchBuilder batch(1, tapsift::dataplane::Engine::kFlow);
    const t::Bytes datagram =
        t::v5_packet(100000, 1700000000, 0, 0, 0, {t::v5_record(0x0a000001, 0x0a000002, 1, 2)});
    const uint8_t addr[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    batch.add({addr, addr, 40000, 2055, tapsift::wire::RecordKind::kNetflowV5, 0, 0, 0, 1, 1},
              datagram.data(), static_cast<uint32_t>(datagram.size()));
    return batch;
}

// Part 1, for one flow_sift unit.
void drive_backend(const std::string &xclbin, uint32_t syslog_units, uint32_t flow_unit) {
    namespace d = tapsift::drivers;
    const std::string unit = "flow_sift_" + std::to_string(flow_unit + 1);
    d::BackendConfig bc;
    bc.kind = d::BackendKind::kXrt;
    bc.device = d::XrtDevice::kCard;
    bc.xclbin = xclbin;
    bc.engines = syslog_units;
    bc.ring_slots = syslog_units;  // consecutive batches take consecutive slots: every unit runs
    bc.lcore_index = flow_unit;
    std::string why;
    std::unique_ptr<d::OffloadBackend> backend = d::load_xrt_backend(bc, why);
    if (!backend) return backend_failed(unit + ": the xrt backend could not open: " + why);

    const tapsift::config::Config cfg = tapsift::config::load_config_string(kRules, "noop-check");
    const tapsift::sift::RulesetSource rules(tapsift::sift::Ruleset::load(cfg));
    // Never connects: nothing is produced from uncomputed outputs anyway.
    tapsift::kafka::Producer producer(tapsift::kafka::ProducerConfig{
        "127.0.0.1:1", {{"log_level", "0"}}, tapsift::kafka::QueueFullPolicy::kDrop, {}});
    tapsift::Counters c;
    try {
        tapsift::pipeline::BatchHandler handler(std::move(backend), producer, cfg, "noop-check",
                                                flow_unit, rules);  // load_tables
        for (uint32_t i = 0; i < syslog_units; ++i) handler.handle(syslog_batch(), c);
        handler.handle(flow_batch(), c);
        handler.finish(c);
    } catch (const std::exception &e) {
        return backend_failed(unit + ": " + e.what());
    }
    const uint64_t batches = syslog_units + 1;
    if (c.offload.batches != batches || c.offload.device_errors != 0 || c.offload.timeouts != 0)
        return backend_failed(unit + ": of " + std::to_string(batches) + " batches, " +
                              std::to_string(c.offload.batches) + " collected, " +
                              std::to_string(c.offload.device_errors) + " failed, " +
                              std::to_string(c.offload.timeouts) + " timed out");
    // Every syslog record and the flow datagram, each counted once, as backend_error.
    const uint64_t records = uint64_t{syslog_units} * kSyslogRecords + 1;
    const uint64_t lost = c.dropped[static_cast<size_t>(tapsift::Dropped::kBackendError)];
    const uint64_t handled =
        c.produced + c.filtered + c.flow_packets + c.malformed_total() + c.dropped_total() - lost;
    if (lost != records || handled != 0)
        return backend_failed(unit + ": of " + std::to_string(records) +
                              " records with uncomputed outputs, " + std::to_string(lost) +
                              " counted backend_error and " + std::to_string(handled) +
                              " handled otherwise");
    std::printf(
        "backend, %s: load_tables, %u syslog batches (one per syslog_sift unit) and a flow batch "
        "submitted and collected, none failed; the uncomputed outputs: %llu records counted "
        "backend_error (flow items ignored as invalid: %llu)\n",
        unit.c_str(), syslog_units, static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(c.flow.invalid_items));
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
#ifdef TAPSIFT_BACKEND_BUILD_DIR
    setenv("TAPSIFT_BACKEND_DIR", TAPSIFT_BACKEND_BUILD_DIR, 0);
#endif
    const uint32_t syslog_units = ki::find_kernel("syslog_sift")->compute_units;
    for (uint32_t f = 0; f < ki::find_kernel("flow_sift")->compute_units; ++f)
        drive_backend(argv[1], syslog_units, f);
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
    if (g_failures) {
        std::fprintf(stderr, "FAIL: %d failures (BACKEND FAILED or MISMATCH above)\n", g_failures);
        return 1;
    }
    std::printf(
        "OK: the xrt backend drove every compute unit; every compute unit of every kernel "
        "opened, set, started and waited, banks and arguments as described\n");
    return 0;
}
