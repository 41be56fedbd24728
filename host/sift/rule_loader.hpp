// Rules from the config (sift.rules) and the rule files it lists, in that order, validated:
// a bad regex, an unknown field or a bad CIDR is a RuleError naming the file, line and rule.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "sift/rule.hpp"

namespace tapsift::sift {

class RuleError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::vector<Rule> load_rules(const config::Config &cfg);

// One rule file's text (a YAML list of rules, or a map with a 'rules' list).
std::vector<Rule> load_rules_text(const std::string &yaml, const std::string &source);

}  // namespace tapsift::sift
