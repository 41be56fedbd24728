#include "compute_unit.hpp"

#include <chrono>
#include <cstdio>

#include "emu_stats.hpp"
#include "latency.hpp"

namespace tapsift::emu {
namespace {

void mark_in_use(const Command &cmd, int delta) {
    for (size_t i = 0; i < cmd.args.size(); ++i) {
        if (!cmd.args[i].buffer) continue;
        const bool written = (cmd.model->written_args >> i) & 1u;
        (written ? cmd.args[i].buffer->writers : cmd.args[i].buffer->readers) += delta;
    }
}

// The kernel wrote its result; a damaged card or link would change it after the fact.
void corrupt_output(const Command &cmd) {
    const ArgValue &out = cmd.args[cmd.model->output_arg];
    const size_t n = std::min<size_t>(out.buffer->bytes.size(), 128);
    for (size_t i = 0; i < n; ++i) out.buffer->bytes.data()[i] ^= 0xFF;
}

}  // namespace

ComputeUnit::ComputeUnit(std::string name, const Settings &settings)
    : name_(std::move(name)), settings_(settings), counters_(cu_counters(name_)) {
    worker_ = std::thread([this] { work(); });
}

ComputeUnit::~ComputeUnit() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        for (Command &cmd : queue_) finish(cmd, ERT_CMD_STATE_ABORT);
        queue_.clear();
        if (running_) {
            std::lock_guard<std::mutex> run_lock(running_->mutex);
            running_->abort_requested = true;
            running_->changed.notify_all();
        }
    }
    queued_.notify_all();
    worker_.join();
}

size_t ComputeUnit::pending() {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size() + (running_ ? 1 : 0);
}

void ComputeUnit::enqueue(Command cmd) {
    mark_in_use(cmd, +1);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(cmd));
    }
    queued_.notify_one();
}

void ComputeUnit::abort(const std::shared_ptr<Completion> &done) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if (it->done == done) {
            finish(*it, ERT_CMD_STATE_ABORT);
            queue_.erase(it);
            return;
        }
    }
    if (running_ == done) {
        std::lock_guard<std::mutex> run_lock(done->mutex);
        done->abort_requested = true;
        done->changed.notify_all();
    }
}

void ComputeUnit::work() {
    for (;;) {
        Command cmd;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            cmd = std::move(queue_.front());
            queue_.pop_front();
            running_ = cmd.done;
            std::lock_guard<std::mutex> run_lock(cmd.done->mutex);
            cmd.done->state = ERT_CMD_STATE_RUNNING;
        }
        execute(cmd);
        std::lock_guard<std::mutex> lock(mutex_);
        running_.reset();
    }
}

void ComputeUnit::execute(Command &cmd) {
    const auto started = std::chrono::steady_clock::now();
    const auto ns = [](std::chrono::steady_clock::time_point t) {
        return static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
    };
    const auto span = [&] { return RunSpan{ns(started), ns(std::chrono::steady_clock::now())}; };
    if (cmd.fault == Fault::kHang) {
        std::unique_lock<std::mutex> lock(cmd.done->mutex);
        cmd.done->changed.wait(lock, [&cmd] { return cmd.done->abort_requested; });
        lock.unlock();
        finish(cmd, ERT_CMD_STATE_ABORT);
        return;
    }
    if (cmd.fault == Fault::kError) {
        count_run_error(counters_, span());
        finish(cmd, ERT_CMD_STATE_ERROR);
        return;
    }
    const uint64_t model_ns =
        settings_.kernel_ns + settings_.kernel_ns_per_beat * ingest_beats(cmd.args);
    const std::string why = cmd.model->execute(cmd.args);
    if (!why.empty()) {
        std::fprintf(stderr, "emulated card: %s on %s: %s\n", cmd.model->name, name_.c_str(),
                     why.c_str());
        count_bounds_error();
        count_run_error(counters_, span());
        finish(cmd, ERT_CMD_STATE_ERROR);
        return;
    }
    const bool corrupt = cmd.fault == Fault::kCorrupt;
    if (corrupt) corrupt_output(cmd);
    wait_until(started + std::chrono::nanoseconds(model_ns));
    count_run_completed(counters_, span(), corrupt);
    finish(cmd, ERT_CMD_STATE_COMPLETED);
}

void ComputeUnit::finish(Command &cmd, ert_cmd_state state) {
    mark_in_use(cmd, -1);
    if (state == ERT_CMD_STATE_ABORT) count_run_aborted(counters_);
    std::lock_guard<std::mutex> lock(cmd.done->mutex);
    cmd.done->state = state;
    cmd.done->changed.notify_all();
}

}  // namespace tapsift::emu
