// kafka.properties tried on a scratch librdkafka conf, as the producer will set them, so that a
// bad name or value is refused by check-config and before run touches a port.
#pragma once

#include <map>
#include <string>

namespace tapsift::kafka {

// Property name ► librdkafka's reason, for each property it refuses.
std::map<std::string, std::string> property_problems(
    const std::map<std::string, std::string> &properties);

}  // namespace tapsift::kafka
