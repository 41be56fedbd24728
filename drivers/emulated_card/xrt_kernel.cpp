// xrt::kernel and xrt::run on the emulated card. Arguments are checked against the kernel
// signature table as XRT checks them against the xclbin's metadata; start() queues the run on a
// compute unit and returns; wait() blocks until it finished or the timeout passed.
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "emu_stats.hpp"
#include "emulated_card.hpp"

namespace xrt {
namespace {

using tapsift::kernel_interface::ArgKind;
using tapsift::kernel_interface::ArgSignature;
using tapsift::kernel_interface::KernelSignature;

// "syslog_sift" selects every CU; "syslog_sift:{syslog_sift_1,syslog_sift_3}" those listed.
std::vector<uint32_t> select_compute_units(const KernelSignature &sig,
                                           const std::string &selection) {
    std::vector<uint32_t> chosen;
    if (selection.empty()) {
        for (uint32_t i = 0; i < sig.compute_units; ++i) chosen.push_back(i);
        return chosen;
    }
    if (selection.size() < 2 || selection.front() != '{' || selection.back() != '}') {
        throw std::runtime_error("kernel: bad compute unit selection '" + selection + "'");
    }
    const std::string list = selection.substr(1, selection.size() - 2);
    size_t from = 0;
    for (;;) {
        const size_t comma = list.find(',', from);
        const std::string cu = list.substr(from, comma - from);
        uint32_t index = sig.compute_units;
        for (uint32_t i = 0; i < sig.compute_units; ++i) {
            if (cu == std::string(sig.name) + "_" + std::to_string(i + 1)) index = i;
        }
        if (index == sig.compute_units) {
            throw std::runtime_error("kernel: no compute unit '" + cu + "' of kernel " + sig.name);
        }
        chosen.push_back(index);
        if (comma == std::string::npos) break;
        from = comma + 1;
    }
    return chosen;
}

const ArgSignature &arg_signature(const kernel_impl &k, int index, const char *what) {
    if (index < 0 || static_cast<uint32_t>(index) >= k.signature->arg_count) {
        throw std::out_of_range(std::string(what) + ": kernel " + k.signature->name + " has " +
                                std::to_string(k.signature->arg_count) + " arguments, not index " +
                                std::to_string(index));
    }
    return k.signature->args[index];
}

run_impl &settable(const std::shared_ptr<run_impl> &h) {
    if (!h) throw std::runtime_error("set_arg: the run has no kernel");
    if (h->done) {
        std::lock_guard<std::mutex> lock(h->done->mutex);
        if (!h->done->finished()) {
            throw std::runtime_error(
                "set_arg: the run is in flight (a card reads its arguments "
                "when the command starts)");
        }
    }
    return *h;
}

}  // namespace

kernel::kernel(const xrt::device &device, const xrt::uuid &xclbin_id, const std::string &name,
               cu_access_mode /*mode*/) {
    auto dev = device.get_handle();
    if (!dev) throw std::runtime_error("kernel: no device");
    if (!xclbin_id || xclbin_id != dev->loaded_xclbin()) {
        throw std::runtime_error("kernel: xclbin " + xclbin_id.to_string() +
                                 " is not loaded on the device");
    }
    const size_t colon = name.find(':');
    const std::string kernel_name = name.substr(0, colon);
    const KernelSignature *sig = tapsift::kernel_interface::find_kernel(kernel_name);
    const tapsift::emu::KernelModel *model = tapsift::emu::find_model(kernel_name);
    if (sig == nullptr || model == nullptr) {
        throw std::runtime_error("kernel: no kernel '" + kernel_name + "' in the xclbin");
    }
    auto impl = std::make_shared<kernel_impl>();
    impl->device = std::move(dev);
    impl->signature = sig;
    impl->model = model;
    impl->compute_units =
        select_compute_units(*sig, colon == std::string::npos ? "" : name.substr(colon + 1));
    handle = std::move(impl);
}

int kernel::group_id(int argno) const {
    if (!handle) throw std::runtime_error("group_id: no kernel");
    const ArgSignature &a = arg_signature(*handle, argno, "group_id");
    if (a.kind != ArgKind::kBuffer) {
        throw std::runtime_error(std::string("group_id: argument '") + a.name + "' of " +
                                 handle->signature->name + " is a scalar, in no memory bank");
    }
    // XRT: the bank of the kernel's first compute unit.
    return static_cast<int>(handle->bank(handle->compute_units.front(), argno));
}

run::run(const kernel &krnl) {
    if (!krnl.get_handle()) throw std::runtime_error("run: no kernel");
    auto impl = std::make_shared<run_impl>();
    impl->kernel = krnl.get_handle();
    impl->args.resize(impl->kernel->signature->arg_count);
    impl->compute_units = impl->kernel->compute_units;
    handle = std::move(impl);
}

void run::set_arg_at_index(int index, const void *value, size_t bytes) {
    run_impl &r = settable(handle);
    const ArgSignature &a = arg_signature(*r.kernel, index, "set_arg");
    if (a.kind != ArgKind::kScalar) {
        throw std::runtime_error(std::string("set_arg: argument '") + a.name + "' of " +
                                 r.kernel->signature->name + " is a buffer, not a scalar");
    }
    if (bytes != a.size) {
        throw std::runtime_error(std::string("set_arg: argument '") + a.name + "' of " +
                                 r.kernel->signature->name + " is " + std::to_string(a.size) +
                                 " bytes, not " + std::to_string(bytes));
    }
    tapsift::emu::ArgValue &v = r.args[index];
    if (bytes > v.scalar.size()) throw std::runtime_error("set_arg: scalar too large");
    std::memcpy(v.scalar.data(), value, bytes);
    v.scalar_size = static_cast<uint32_t>(bytes);
    v.buffer.reset();
    v.set = true;
}

void run::set_arg_at_index(int index, const xrt::bo &bo) {
    run_impl &r = settable(handle);
    const ArgSignature &a = arg_signature(*r.kernel, index, "set_arg");
    if (a.kind != ArgKind::kBuffer) {
        throw std::runtime_error(std::string("set_arg: argument '") + a.name + "' of " +
                                 r.kernel->signature->name + " is a scalar, not a buffer");
    }
    const auto &b = bo.get_handle();
    if (!b) throw std::runtime_error(std::string("set_arg: argument '") + a.name + "': empty bo");
    if (b->device != r.kernel->device) {
        throw std::runtime_error(std::string("set_arg: argument '") + a.name +
                                 "': the bo belongs to another device");
    }
    // XRT keeps the compute units connected to the buffer's bank, and fails when none is left.
    std::vector<uint32_t> connected;
    for (uint32_t cu : r.compute_units) {
        if (r.kernel->bank(cu, index) == b->group) connected.push_back(cu);
    }
    if (connected.empty()) {
        throw std::runtime_error(std::string("set_arg: argument '") + a.name + "' of " +
                                 r.kernel->signature->name +
                                 ": no compute unit left that is "
                                 "connected to memory group " +
                                 std::to_string(b->group));
    }
    r.compute_units = std::move(connected);
    tapsift::emu::ArgValue &v = r.args[index];
    v.buffer = b->memory;
    v.scalar_size = 0;
    v.set = true;
}

void run::start() {
    if (!handle) throw std::runtime_error("start: the run has no kernel");
    run_impl &r = *handle;
    if (r.done) {
        std::lock_guard<std::mutex> lock(r.done->mutex);
        if (!r.done->finished()) throw std::runtime_error("start: bad command state, can't launch");
    }
    const KernelSignature &sig = *r.kernel->signature;
    for (uint32_t i = 0; i < sig.arg_count; ++i) {
        if (!r.args[i].set) {
            throw std::runtime_error(std::string("start: argument '") + sig.args[i].name + "' of " +
                                     sig.name + " is not set");
        }
    }
    xrt_core::device &dev = *r.kernel->device;
    // A card's scheduler gives the command to an idle CU of the kernel: here the least busy,
    // the first listed on a tie (a kernel selecting one CU always runs there).
    tapsift::emu::ComputeUnit *cu_ptr = nullptr;
    size_t least = SIZE_MAX;
    for (uint32_t index : r.compute_units) {
        tapsift::emu::ComputeUnit &c = dev.compute_unit(r.kernel->cu_name(index));
        const size_t p = c.pending();
        if (p < least) least = p, cu_ptr = &c;
    }
    tapsift::emu::ComputeUnit &cu = *cu_ptr;
    const tapsift::emu::Settings &s = dev.settings();
    // TAPSIFT_EMU_FAULT_RUN counts the process's runs (every device), or with
    // TAPSIFT_EMU_FAULT_CU that CU's, since the start or tapsift_emu_stats_reset().
    const tapsift::emu::RunNumbers numbers = tapsift::emu::count_run_started(cu.counters());
    tapsift::emu::Command cmd;
    if (s.fault != tapsift::emu::Fault::kNone && (s.fault_cu.empty() || s.fault_cu == cu.name())) {
        const uint64_t number = s.fault_cu.empty() ? numbers.process : numbers.cu;
        if (s.fault_run == 0 || s.fault_run == number) cmd.fault = s.fault;
    }
    r.done = std::make_shared<tapsift::emu::Completion>();
    r.cu = &cu;
    cmd.done = r.done;
    cmd.model = r.kernel->model;
    cmd.args = r.args;
    cu.enqueue(std::move(cmd));
}

ert_cmd_state run::wait(const std::chrono::milliseconds &timeout) const {
    if (!handle) throw std::runtime_error("wait: the run has no kernel");
    const auto done = handle->done;
    if (!done) return ERT_CMD_STATE_NEW;
    std::unique_lock<std::mutex> lock(done->mutex);
    if (timeout.count() == 0) {
        done->changed.wait(lock, [&done] { return done->finished(); });
    } else if (!done->changed.wait_for(lock, timeout, [&done] { return done->finished(); })) {
        return ERT_CMD_STATE_TIMEOUT;
    }
    return done->state;
}

ert_cmd_state run::state() const {
    if (!handle) throw std::runtime_error("state: the run has no kernel");
    const auto done = handle->done;
    if (!done) return ERT_CMD_STATE_NEW;
    std::lock_guard<std::mutex> lock(done->mutex);
    return done->state;
}

ert_cmd_state run::abort() {
    if (!handle) throw std::runtime_error("abort: the run has no kernel");
    const auto done = handle->done;
    if (!done) return ERT_CMD_STATE_NEW;
    handle->cu->abort(done);
    return wait(std::chrono::milliseconds{0});
}

}  // namespace xrt
