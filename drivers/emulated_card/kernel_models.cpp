#include "kernel_models.hpp"

#include <cstring>

#include "flow_sift/flow_sift.hpp"
#include "syslog_sift/syslog_sift.hpp"
#include "wire/descriptor.hpp"
#include "wire/flow_descriptor.hpp"
#include "wire/ingest_batch.hpp"
#include "wire/prefilter_image.hpp"

namespace tapsift::emu {
namespace {

using hls_kernels::beat_t;

template <typename T>
T scalar(const ArgValue &a) {
    T v;
    std::memcpy(&v, a.scalar.data(), sizeof v);
    return v;
}

template <typename T>
T *device(const ArgValue &a) {
    return reinterpret_cast<T *>(a.buffer->bytes.data());
}

size_t bytes(const ArgValue &a) {
    return a.buffer->bytes.size();
}

std::string too_small(const char *arg, size_t have, uint64_t need) {
    return std::string("buffer '") + arg + "' holds " + std::to_string(have) +
           " bytes, the kernel may touch " + std::to_string(need);
}

// What the kernels read from the batch and table headers decides how far they reach.
std::string check_ingest(const ArgValue &ingest) {
    if (bytes(ingest) < wire::kBeatBytes)
        return too_small("ingest", bytes(ingest), wire::kBeatBytes);
    const auto &h = *device<const wire::IngestBatchHeader>(ingest);
    const uint64_t need = uint64_t{h.total_beats} * wire::kBeatBytes;
    if (h.total_beats <= wire::kMaxBatchBeats && need > bytes(ingest)) {
        return too_small("ingest", bytes(ingest), need);
    }
    return {};
}

std::string check_tables(const ArgValue &tables) {
    const size_t header = sizeof(wire::PrefilterImageHeader);
    if (bytes(tables) < header) return too_small("tables", bytes(tables), header);
    const auto &h = *device<const wire::PrefilterImageHeader>(tables);
    if (h.magic == wire::kPrefilterImageMagic && h.image_bytes > bytes(tables)) {
        return too_small("tables", bytes(tables), h.image_bytes);
    }
    return {};
}

std::string check_at_least(const char *arg, const ArgValue &a, uint64_t need) {
    return bytes(a) < need ? too_small(arg, bytes(a), need) : std::string();
}

uint32_t batch_records(const ArgValue &ingest) {
    return device<const wire::IngestBatchHeader>(ingest)->record_count;
}

// syslog_sift(ingest, descriptors, rfc3164_utc_offset_s, tables, counters)
std::string run_syslog_sift(const std::vector<ArgValue> &a) {
    std::string why = check_ingest(a[0]);
    if (why.empty()) {
        const uint64_t records = std::min(batch_records(a[0]), wire::kMaxRecordsPerBatch);
        why = check_at_least("descriptors", a[1], records * wire::kDescriptorBytes);
    }
    if (why.empty()) why = check_tables(a[3]);
    if (why.empty()) {
        why = check_at_least("counters", a[4], sizeof(hls_kernels::SyslogSiftCounters));
    }
    if (!why.empty()) return why;
    hls_kernels::syslog_sift(device<const beat_t>(a[0]), device<beat_t>(a[1]),
                             scalar<int32_t>(a[2]), device<const beat_t>(a[3]),
                             device<hls_kernels::SyslogSiftCounters>(a[4]));
    return {};
}

// flow_sift(ingest, items, max_items, config, state, tables, counters)
std::string run_flow_sift(const std::vector<ArgValue> &a) {
    const auto max_items = scalar<uint32_t>(a[2]);
    std::string why = check_ingest(a[0]);
    if (why.empty())
        why = check_at_least("items", a[1], uint64_t{max_items} * wire::kDescriptorBytes);
    if (why.empty()) why = check_at_least("state", a[4], sizeof(wire::FlowParseState));
    if (why.empty()) why = check_tables(a[5]);
    if (why.empty()) why = check_at_least("counters", a[6], sizeof(hls_kernels::FlowSiftCounters));
    if (!why.empty()) return why;
    hls_kernels::flow_sift(device<const beat_t>(a[0]), device<beat_t>(a[1]), max_items,
                           scalar<hls_kernels::FlowParseConfig>(a[3]),
                           device<wire::FlowParseState>(a[4]), device<const beat_t>(a[5]),
                           device<hls_kernels::FlowSiftCounters>(a[6]));
    return {};
}

constexpr KernelModel kSyslogSift = {"syslog_sift", (1u << 1) | (1u << 4), 1, run_syslog_sift};
constexpr KernelModel kFlowSift = {"flow_sift", (1u << 1) | (1u << 4) | (1u << 6), 1,
                                   run_flow_sift};

}  // namespace

const std::vector<const KernelModel *> &all_models() {
    static const std::vector<const KernelModel *> models = {&kSyslogSift, &kFlowSift};
    return models;
}

const KernelModel *find_model(const std::string &kernel_name) {
    for (const KernelModel *m : all_models()) {
        if (kernel_name == m->name) return m;
    }
    return nullptr;
}

uint64_t ingest_beats(const std::vector<ArgValue> &args) {
    if (args.empty() || !args[0].buffer || bytes(args[0]) < wire::kBeatBytes) return 0;
    const uint64_t beats = device<const wire::IngestBatchHeader>(args[0])->total_beats;
    return std::min<uint64_t>(beats, bytes(args[0]) / wire::kBeatBytes);
}

}  // namespace tapsift::emu
