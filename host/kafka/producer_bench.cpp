// What librdkafka alone costs per event, with the gateway's producer settings, into the embedded
// broker: the floor under tapsift's end-to-end CPU-s per million events (docs/sizing.md).
//   build/host/producer_bench [EVENTS]
// Produces EVENTS copies of a real syslog event and a real flow event (from the demo captures),
// each made unique by its sequence number, keyed like the gateway (8 distinct keys); waits for
// every delivery report, and prints CPU seconds (all threads of this process: the producer's and
// the broker's) per million events.
#include <sys/resource.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "kafka/embedded_broker.hpp"
#include "kafka/producer.hpp"

using namespace tapsift;

namespace {

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char **argv) {
    const uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500000;
    fmt::print("librdkafka alone: {} events each, embedded broker, tapsift's producer settings\n",
               events);
    fmt::print("| event | CPU-s per M events | events/s |\n|---|---|---|\n");
    // Two events the demo produced; @SEQ@ takes the sequence number.
    const std::string kinds[][2] = {
        {"syslog",
         R"({"@timestamp":"2026-11-01T00:00:07.000Z","message":"Accepted publickey for deploy from )"
         R"(198.51.100.77 port 52144 ssh2: ED25519 SHA256:Zt3u9m1cQ4Y2bq8","log":{"syslog":{)"
         R"("priority":86,"facility":{"code":10,"name":"authpriv"},"severity":{"code":6,"name":)"
         R"("info"},"hostname":"web01","appname":"sshd","procid":"4123"}},"source":{"ip":)"
         R"("10.1.0.21","port":41514},"observer":{"hostname":"tap-1","type":"gateway","product":)"
         R"("tapsift"},"event":{"kind":"event","dataset":"syslog","created":)"
         R"("2026-11-28T08:49:33.984375812Z","sequence":@SEQ@},"tapsift":{"format":"rfc3164"}})"},
        {"flow",
         R"({"@timestamp":"2026-11-01T00:00:00.000Z","event":{"kind":"event","category":[)"
         R"("network"],"type":["connection"],"action":"netflow_flow","dataset":"netflow.log",)"
         R"("created":"2026-11-28T08:49:33.984998534Z","start":"2026-10-31T23:59:17.870Z","end":)"
         R"("2026-10-31T23:59:46.437Z","duration":28567000000,"sequence":@SEQ@},"observer":{"ip":)"
         R"("198.51.100.5"},"source":{"ip":"10.145.207.219","port":53498,"bytes":6983086,)"
         R"("packets":5611},"destination":{"ip":"203.0.113.17","port":443},"network":{)"
         R"("transport":"tcp","iana_number":"6","bytes":6983086,"packets":5611,"direction":)"
         R"("unknown"},"netflow":{"type":"netflow_flow","exporter":{"address":)"
         R"("198.51.100.5:2055","source_id":0,"version":9,"timestamp":)"
         R"("2026-11-01T00:00:00.000Z","uptime_millis":86400000},"template_id":260,)"
         R"("source_ipv4_address":"10.145.207.219","destination_ipv4_address":"203.0.113.17",)"
         R"("source_transport_port":53498,"destination_transport_port":443,)"
         R"("protocol_identifier":6,"tcp_control_bits":27,"ip_class_of_service":0,)"
         R"("ingress_interface":3,"egress_interface":7,"octet_delta_count":6983086,)"
         R"("packet_delta_count":5611,"flow_start_sys_up_time":86357870,)"
         R"("flow_end_sys_up_time":86386437,"bgp_source_as_number":64512,)"
         R"("bgp_destination_as_number":15169},"tapsift":{"format":"netflow_v9","flow_record":3}})"}};
    for (const auto &kind : kinds) {
        kafka::EmbeddedBroker broker(1);
        broker.create_topic("bench", 4);
        kafka::ProducerConfig pc;
        pc.bootstrap = broker.bootstrap();
        kafka::Producer producer(pc);
        const std::string topic = "bench";
        size_t bytes = 0;
        const double cpu0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        for (uint64_t i = 0; i < events; ++i) {
            const std::string key = fmt::format("10.0.0.{}", i % 8);
            std::string value = kind[1];
            value.replace(value.find("@SEQ@"), 5, std::to_string(i));
            bytes = value.size();
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
            if (producer.produce(deadline, topic, key.data(), key.size(), value.data(),
                                 value.size()) != kafka::ProduceResult::kAccepted) {
                fmt::print(stderr, "produce refused at event {}\n", i);
                return 1;
            }
        }
        producer.drain(60000);
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double cpu = cpu_seconds() - cpu0;
        if (producer.delivery().delivered != events) {
            fmt::print(stderr, "delivered {} of {}\n", producer.delivery().delivered, events);
            return 1;
        }
        fmt::print("| {} ({} B) | {:.2f} | {:.0f} k |\n", kind[0], bytes,
                   cpu / static_cast<double>(events) * 1e6,
                   static_cast<double>(events) / wall / 1e3);
    }
    return 0;
}
