#include "sift/reloader.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "sift/rule_loader.hpp"

namespace tapsift::sift {
namespace {

std::string id_list(const std::set<std::string> &ids) {
    std::string out;
    for (const std::string &id : ids) out += (out.empty() ? "" : ", ") + id;
    return out.empty() ? "none" : out;
}

}  // namespace

Reloader::Reloader(std::string config_path, std::atomic<bool> &requested, RulesetSource &source)
    : config_path_(std::move(config_path)), requested_(requested), source_(source) {
    thread_ = std::thread([this] {
        while (!stop_.load()) {
            if (requested_.exchange(false)) reload_now();
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
}

Reloader::~Reloader() {
    stop_ = true;
    thread_.join();
}

bool Reloader::reload_now() {
    const std::shared_ptr<const Ruleset> old = source_.current();
    std::shared_ptr<const Ruleset> next;
    try {
        next = Ruleset::load(config::load_config_file(config_path_));
    } catch (const std::exception &e) {
        failures_++;
        spdlog::error("sift: reload of {} failed, the rules in force stay: {}", config_path_,
                      e.what());
        return false;
    }
    std::set<std::string> before, after;
    for (const Rule &r : old->rules()) before.insert(r.id);
    for (const Rule &r : next->rules()) after.insert(r.id);
    std::set<std::string> added, removed;
    for (const std::string &id : after) {
        if (!before.count(id)) added.insert(id);
    }
    for (const std::string &id : before) {
        if (!after.count(id)) removed.insert(id);
    }
    const size_t old_indicators = old->indicators().size();
    source_.publish(next);
    reloads_++;
    spdlog::info("sift: reloaded {}: {}; rules added: {}; removed: {}; indicators {} (was {})",
                 config_path_, next->summary(), id_list(added), id_list(removed),
                 next->indicators().size(), old_indicators);
    return true;
}

}  // namespace tapsift::sift
