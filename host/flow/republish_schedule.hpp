// When a template said again on the wire (the same definition: a refresh) goes to the
// template-sharing topic again. Exporters resend their templates every few seconds or datagrams
// (RFC 7011 §8.4 for UDP, Cisco's default every 30 minutes or 20 packets); a gateway that learned
// a template from the topic expires it flows.template_timeout_s of packet time after the last
// copy it got, so the topic gets a fresh copy of each key at least every interval (half the
// timeout) while its exporter keeps refreshing it, and no more often. A changed definition (learned
// or replaced) is always published; it restarts the key's interval.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>

namespace tapsift::flow {

class RepublishSchedule {
  public:
    // max_keys bounds the keys remembered (what the engines can hold).
    RepublishSchedule(int64_t interval_ns, size_t max_keys);

    // A publication of the key at packet time ns.
    void published(const uint8_t exporter[16], uint32_t domain, uint16_t template_id, int64_t ns);
    // Whether a refresh of the key at packet time ns is due: never published here, published an
    // interval ago or more, or "later" than ns (the exporter's clock stepped back).
    bool due(const uint8_t exporter[16], uint32_t domain, uint16_t template_id, int64_t ns) const;
    size_t keys() const { return last_.size(); }

  private:
    using Key = std::tuple<std::array<uint8_t, 16>, uint32_t, uint16_t>;
    static Key key_of(const uint8_t exporter[16], uint32_t domain, uint16_t template_id);
    void remember(const Key &k, int64_t ns);

    int64_t interval_ns_;
    size_t max_keys_;
    std::map<Key, int64_t> last_;  // the last publication's packet time
};

}  // namespace tapsift::flow
