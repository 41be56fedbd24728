// What `run` would refuse in a config beyond the file's own keys: no ports, a device string DPDK
// cannot parse, an lcore that is not one of the machine's CPUs, a librdkafka property librdkafka
// refuses. run and check-config load the config with these checks (config::ExtraChecks), so
// check-config refuses whatever run would, and reports it with the file's other problems.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace tapsift::pipeline {

void check_startup(const config::Config &cfg, std::vector<std::string> &problems);

}  // namespace tapsift::pipeline
