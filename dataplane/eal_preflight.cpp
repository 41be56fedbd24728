#include "eal_preflight.hpp"

#include <dirent.h>
#include <dlfcn.h>
#include <rte_build_config.h>
#include <rte_devargs.h>
#include <rte_log.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include "ring_port.hpp"

namespace tapsift::dataplane {
namespace {

// Debian's DPDK registers its buses and PMDs from plugins that rte_eal_init loads from
// RTE_EAL_PMD_PATH; the devargs parser knows a vdev driver only once its plugin is loaded. Loading
// them here is what rte_eal_init does first (it finds them already loaded).
void load_dpdk_plugins() {
    static std::once_flag once;
    std::call_once(once, [] {
        DIR *dir = opendir(RTE_EAL_PMD_PATH);
        if (!dir) return;
        while (const dirent *e = readdir(dir)) {
            const std::string name = e->d_name;
            if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0) {
                dlopen((std::string(RTE_EAL_PMD_PATH) + "/" + name).c_str(),
                       RTLD_NOW | RTLD_GLOBAL);
            }
        }
        closedir(dir);
    });
}

std::string unreadable(const std::string &file) {
    return access(file.c_str(), R_OK) == 0
               ? ""
               : fmt::format("cannot read {}: {}", file, std::strerror(errno));
}

bool is_vdev(const std::string &device) {
    return device.rfind("net_", 0) == 0;
}

bool is_ring(const std::string &device) {
    return device.rfind(kRingDevicePrefix, 0) == 0;
}

// net_af_packet, and net_pcap on an interface (iface=, rx_iface=, rx_iface_in=, tx_iface=).
bool opens_raw_socket(const std::string &device) {
    return device.rfind("net_af_packet", 0) == 0 ||
           (device.rfind("net_pcap", 0) == 0 && device.find("iface=") != std::string::npos);
}

// The capability sets of /proc/self/status: CapEff as a bit mask.
uint64_t effective_capabilities() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
    }
    return 0;
}

constexpr int kCapNetRaw = 13;  // linux/capability.h
constexpr int kCapIpcLock = 14;

uint64_t free_hugepages() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t value = 0;
    while (in >> key >> value) {
        if (key == "HugePages_Free:") return value;
        in.ignore(256, '\n');
    }
    return 0;
}

std::string executable() {
    char path[4096] = {};
    const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    return n > 0 ? std::string(path, static_cast<size_t>(n)) : "tapsift";
}

std::string missing_capability(const char *cap, const std::string &what) {
    return fmt::format(
        "{} needs {}, which this process lacks: run `sudo setcap cap_net_raw,cap_ipc_lock+ep {}`, "
        "or under systemd set AmbientCapabilities=CAP_NET_RAW CAP_IPC_LOCK (as the shipped "
        "tapsift.service does)",
        what, cap, executable());
}

}  // namespace

std::string device_problem(const std::string &device) {
    if (is_ring(device)) return unreadable(device.substr(std::strlen(kRingDevicePrefix)));
    load_dpdk_plugins();
    rte_devargs da{};
    // The parser logs its own failure on stderr: the caller reports it with the key's line.
    const uint32_t level = rte_log_get_global_level();
    rte_log_set_global_level(RTE_LOG_EMERG);
    const int rc = rte_devargs_parse(&da, device.c_str());
    rte_log_set_global_level(level);
    rte_devargs_reset(&da);
    if (rc != 0) {
        return fmt::format(
            "DPDK cannot parse the device string '{}' (expected a PCI address such as "
            "0000:3b:00.0, or a vdev of a known driver such as net_pcap0,rx_pcap=FILE)",
            device);
    }
    std::istringstream parts(device);
    std::string part;
    while (std::getline(parts, part, ',')) {
        if (part.rfind("rx_pcap=", 0) == 0) {
            const std::string why = unreadable(part.substr(8));
            if (!why.empty()) return why;
        }
    }
    return "";
}

std::string lcore_problem(uint32_t lcore) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return "";
    if (lcore < CPU_SETSIZE && CPU_ISSET(lcore, &cpus)) return "";
    std::string usable;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &cpus)) usable += fmt::format("{}{}", usable.empty() ? "" : ",", c);
    }
    return fmt::format("CPU {} is not one this process may run on (it may use {})", lcore, usable);
}

std::vector<std::string> privilege_problems(const EalSettings &settings) {
    std::vector<std::string> problems;
    const uint64_t caps = effective_capabilities();
    rlimit memlock{};
    getrlimit(RLIMIT_MEMLOCK, &memlock);
    for (const PortSettings &p : settings.ports) {
        if (opens_raw_socket(p.device) && !(caps & (uint64_t{1} << kCapNetRaw))) {
            problems.push_back(missing_capability("CAP_NET_RAW", "port " + p.device));
        }
        // A PCI device's DMA memory is locked (VFIO): beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK.
        if (!is_vdev(p.device) && !is_ring(p.device) && memlock.rlim_cur != RLIM_INFINITY &&
            !(caps & (uint64_t{1} << kCapIpcLock))) {
            problems.push_back(missing_capability("CAP_IPC_LOCK", "port " + p.device));
        }
    }
    bool no_huge = false;
    for (const std::string &a : settings.eal_args) no_huge = no_huge || a == "--no-huge";
    if (!no_huge && free_hugepages() == 0) {
        problems.push_back(
            "dataplane.eal_args asks for hugepages (no --no-huge) but none is free (HugePages_Free "
            "is 0 in /proc/meminfo): reserve some with `sudo dpdk-hugepages.py --setup 1G` or "
            "`sudo sysctl vm.nr_hugepages=512`, or add --no-huge to dataplane.eal_args");
    }
    return problems;
}

}  // namespace tapsift::dataplane
