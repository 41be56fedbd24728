// One compute unit of the emulated card: its own command queue and worker thread, executing its
// commands in FIFO order (as a CU's slot in the card's command queue) while other CUs run in
// parallel. start() enqueues and returns; the run's Completion says when it finished and how.
#pragma once

#include <xrt/xrt_kernel.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emu_settings.hpp"
#include "kernel_models.hpp"

namespace tapsift::emu {

struct CuCounters;

// The state of one started run, shared by the run object and its queued command.
struct Completion {
    std::mutex mutex;
    std::condition_variable changed;
    ert_cmd_state state = ERT_CMD_STATE_QUEUED;
    bool abort_requested = false;  // a hung run ends when this is set

    bool finished() const {
        return state == ERT_CMD_STATE_COMPLETED || state == ERT_CMD_STATE_ERROR ||
               state == ERT_CMD_STATE_ABORT;
    }
};

struct Command {
    std::shared_ptr<Completion> done;
    const KernelModel *model = nullptr;
    std::vector<ArgValue> args;
    Fault fault = Fault::kNone;
};

class ComputeUnit {
  public:
    ComputeUnit(std::string name, const Settings &settings);
    ~ComputeUnit();  // aborts what is queued or hung, then joins the worker
    ComputeUnit(const ComputeUnit &) = delete;
    ComputeUnit &operator=(const ComputeUnit &) = delete;

    const std::string &name() const { return name_; }
    CuCounters &counters() { return counters_; }
    // Marks the command's buffers in use and queues it behind this CU's earlier commands.
    void enqueue(Command cmd);
    // Drops a queued command, or ends a hung one; a running one is left to finish.
    void abort(const std::shared_ptr<Completion> &done);
    // Runs queued or running here: the scheduler gives a new run to the least busy CU.
    size_t pending();

  private:
    void work();
    void execute(Command &cmd);
    void finish(Command &cmd, ert_cmd_state state);

    const std::string name_;
    const Settings settings_;
    CuCounters &counters_;
    std::mutex mutex_;
    std::condition_variable queued_;
    std::deque<Command> queue_;
    std::shared_ptr<Completion> running_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace tapsift::emu
