#include "syslog_corpus.hpp"

#include <dirent.h>

#include <fstream>
#include <sstream>

namespace tapsift::testing {
namespace {

std::vector<std::string> files_in(const std::string &dir) {
    std::vector<std::string> out;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            if (e->d_name[0] != '.') out.push_back(dir + "/" + e->d_name);
        }
        closedir(d);
    }
    return out;
}

std::string slurp(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

std::vector<std::string> syslog_corpus_messages(const std::string &corpus_dir) {
    const std::string root = corpus_dir + "/syslog";
    std::vector<std::string> msgs;
    for (const auto &f : files_in(root + "/rsyslog/parser-testsuite")) {
        std::istringstream lines(slurp(f));
        std::string line;
        bool input = true;  // lines alternate: input, expected output
        while (std::getline(lines, line)) {
            if (line.empty() || line[0] == '#') continue;
            if (input) msgs.push_back(line);
            input = !input;
        }
    }
    for (const auto &f : files_in(root + "/rsyslog/fuzz-corpus")) msgs.push_back(slurp(f));
    for (const auto &dir : files_in(root + "/telegraf")) msgs.push_back(slurp(dir + "/input.txt"));
    return msgs;
}

}  // namespace tapsift::testing
