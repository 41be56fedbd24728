// Templates (and sampling rates) saved to disk, so a restart decodes data at once instead of
// waiting up to a template refresh interval. One file per flow engine (per lcore); at start every
// engine loads every file in the directory, since RSS may route an exporter to another lcore.
//
// File: "TSFT", format version, sizeof(FlowTemplate), entry counts, the in-use entries as the
// kernel stores them, and a CRC32 over everything before it. Written to a temporary name, then
// renamed: a crash leaves the previous file whole.
#pragma once

#include <cstdint>
#include <string>

#include "wire/flow_template.hpp"

namespace tapsift::flow {

// False (and why) when the file cannot be written.
bool save_templates(const std::string &path, const wire::FlowParseState &state, std::string &why);

struct RestoreResult {
    uint64_t templates = 0;
    uint64_t exporter_options = 0;
    uint64_t files = 0;
    uint64_t bad_files = 0;  // unreadable, corrupt or from another layout: logged and skipped
};

// Loads every templates-*.bin in dir into state. A missing dir restores nothing.
RestoreResult restore_templates(const std::string &dir, wire::FlowParseState &state);

std::string template_file_path(const std::string &dir, uint32_t engine_index);

}  // namespace tapsift::flow
