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

// The keys a reload applies: what Ruleset::load reads, except the kernel's table sizes (the
// card's memories are sized at start).
bool applies_live(const std::string &key) {
    return key == "sift.rules" || key == "sift.rule_files" || key == "sift.ioc_files" ||
           key == "sift.default_action" || key == "sift.alerts_topic";
}

}  // namespace

Reloader::Reloader(std::string config_path, const config::Config &running,
                   std::atomic<bool> &requested, RulesetSource &source)
    : config_path_(std::move(config_path)),
      running_(running),
      requested_(requested),
      source_(source) {
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
    config::Config cfg;
    try {
        cfg = config::load_config_file(config_path_);
        next = Ruleset::load(cfg);
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
    std::set<std::string> restart;
    for (const std::string &key : config::changed_keys(running_, cfg)) {
        if (!applies_live(key)) restart.insert(key);
    }
    if (!restart.empty()) {
        spdlog::warn("reload of {}: changed, applied only at the next restart: {}", config_path_,
                     id_list(restart));
    }
    return true;
}

}  // namespace tapsift::sift
