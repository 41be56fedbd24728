#include "template_file.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "flow_parse/template_store.hpp"
#include "wire/ingest_batch.hpp"

namespace tapsift::flow {
namespace {

constexpr uint32_t kMagic = 0x54465354;  // "TSFT"
constexpr uint32_t kFormatVersion = 1;
constexpr int64_t kMaxInitMs = 6000000000000;  // the kernel ignores flow times past 2160

struct FileHeader {
    uint32_t magic;
    uint32_t version;
    uint32_t template_bytes;  // sizeof(FlowTemplate): a build with another layout refuses the file
    uint32_t sampler_bytes;
    uint32_t templates;
    uint32_t exporter_options;
};

uint32_t crc_of(const std::vector<uint8_t> &bytes) {
    return static_cast<uint32_t>(
        crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

template <typename T>
void append(std::vector<uint8_t> &out, const T &v) {
    const auto *p = reinterpret_cast<const uint8_t *>(&v);
    out.insert(out.end(), p, p + sizeof v);
}

// What the kernel derives from a template's field list is derived again, not trusted from the
// file (a valid CRC says the bytes are intact, not that another build wrote them the same way).
bool rederive(wire::FlowTemplate &t) {
    if (t.field_count == 0 || t.field_count > wire::kMaxTemplateFields) return false;
    uint32_t fixed = 0;
    uint32_t variable = 0;
    for (uint32_t i = 0; i < t.field_count; ++i) {
        if (t.fields[i].length == wire::kVariableLength) {
            variable++;
        } else {
            fixed += t.fields[i].length;
        }
    }
    if (fixed + variable == 0 || fixed + variable > wire::kMaxPayloadBytes) return false;
    t.min_record_bytes = static_cast<uint16_t>(fixed + variable);
    t.variable = variable > 0;
    t.reverse = 0;
    hls_kernels::template_locate_core(t);
    return true;
}

bool restore_file(const std::filesystem::path &path, wire::FlowParseState &state,
                  RestoreResult &r) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    FileHeader h{};
    if (bytes.size() < sizeof h + 4) return false;
    std::memcpy(&h, bytes.data(), sizeof h);
    const uint64_t body = sizeof h + uint64_t{h.templates} * sizeof(wire::FlowTemplate) +
                          uint64_t{h.exporter_options} * sizeof(wire::ExporterOptions);
    if (h.magic != kMagic || h.version != kFormatVersion ||
        h.template_bytes != sizeof(wire::FlowTemplate) ||
        h.sampler_bytes != sizeof(wire::ExporterOptions) || bytes.size() != body + 4)
        return false;
    uint32_t stored_crc = 0;
    std::memcpy(&stored_crc, bytes.data() + body, 4);
    if (stored_crc != crc_of(std::vector<uint8_t>(bytes.begin(), bytes.begin() + body)))
        return false;
    const uint8_t *const templates = bytes.data() + sizeof h;
    for (uint32_t i = 0; i < h.templates; ++i) {  // all or nothing: check before storing any
        wire::FlowTemplate t;
        std::memcpy(&t, templates + i * sizeof t, sizeof t);
        if (!rederive(t)) return false;
    }
    for (uint32_t i = 0; i < h.templates; ++i) {
        wire::FlowTemplate t;
        std::memcpy(&t, templates + i * sizeof t, sizeof t);
        rederive(t);
        if (hls_kernels::template_find(state, t.exporter, t.domain, t.template_id) >= 0)
            continue;  // this engine has it already (another lcore's file lists it too)
        uint32_t slot = 0;
        hls_kernels::template_store(state, t, &slot);
        r.templates++;
    }
    const uint8_t *const exporter_options =
        templates + uint64_t{h.templates} * sizeof(wire::FlowTemplate);
    for (uint32_t i = 0; i < h.exporter_options; ++i) {
        wire::ExporterOptions e;
        std::memcpy(&e, exporter_options + i * sizeof e, sizeof e);
        if (e.system_init_ms < 0 || e.system_init_ms > kMaxInitMs) e.system_init_ms = 0;
        state.exporter_options[hls_kernels::exporter_slot(e.exporter, e.domain)] = e;
        r.exporter_options++;
    }
    return true;
}

}  // namespace

std::string template_file_path(const std::string &dir, uint32_t engine_index) {
    return fmt::format("{}/templates-{}.bin", dir, engine_index);
}

bool save_templates(const std::string &path, const wire::FlowParseState &state, std::string &why) {
    std::vector<uint8_t> bytes;
    FileHeader h{
        kMagic, kFormatVersion, sizeof(wire::FlowTemplate), sizeof(wire::ExporterOptions), 0, 0};
    for (const auto &t : state.templates) h.templates += t.in_use;
    for (const auto &e : state.exporter_options) h.exporter_options += e.in_use;
    append(bytes, h);
    for (const auto &t : state.templates) {
        if (t.in_use) append(bytes, t);
    }
    for (const auto &e : state.exporter_options) {
        if (e.in_use) append(bytes, e);
    }
    append(bytes, crc_of(bytes));
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char *>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        if (!out.flush()) {
            why = fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
            return false;
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        why = fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno));
        return false;
    }
    return true;
}

RestoreResult restore_templates(const std::string &dir, wire::FlowParseState &state) {
    RestoreResult r;
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return r;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("templates-", 0) != 0 || entry.path().extension() != ".bin") continue;
        if (restore_file(entry.path(), state, r)) {
            r.files++;
        } else {
            r.bad_files++;
            spdlog::warn("flows: {} is not a template file this build can read; skipped",
                         entry.path().string());
        }
    }
    return r;
}

}  // namespace tapsift::flow
