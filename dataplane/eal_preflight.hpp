// What rte_eal_init and port bring-up would refuse, found without starting the EAL: check-config
// refuses it too, and run names the cause (a missing capability, no hugepages) instead of DPDK's
// usage text or "check the device string".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eal_settings.hpp"

namespace tapsift::dataplane {

// Empty when DPDK's devargs parser (rte_devargs_parse) takes the device string and the files it
// names can be read; else why not.
std::string device_problem(const std::string &device);

// Empty when the lcore is one of the CPUs this process may run on; else why not.
std::string lcore_problem(uint32_t lcore);

// The capabilities and hugepages the settings need and this process lacks, each with its fix.
std::vector<std::string> privilege_problems(const EalSettings &settings);

}  // namespace tapsift::dataplane
