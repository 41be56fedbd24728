// The dataplane's settings, filled from the config (the dataplane knows nothing of it).
#pragma once

#include "config/config.hpp"
#include "eal_settings.hpp"
#include "rx_settings.hpp"

namespace tapsift::pipeline {

dataplane::EalSettings eal_settings(const config::Dataplane &cfg);
dataplane::RxSettings rx_settings(const config::Config &cfg);

}  // namespace tapsift::pipeline
