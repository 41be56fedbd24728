"""The ECS shape check itself (ecs_shape.py): events that break ECS are caught, with the reason,
and a well-formed event passes. The e2e tests apply it to every event they read back."""
from ecs_shape import ECS_VERSION, problems
from e2e_support import Check

check = Check()

GOOD = {"@timestamp": "2026-12-05T10:00:00.123456789Z", "ecs": {"version": ECS_VERSION}, "message": "m",
        "log": {"syslog": {"priority": 134, "structured_data": {"origin": {"ip": "10.0.0.1"}}},
                "source": {"address": "192.0.2.1:514"}},
        "source": {"ip": "2001:db8::1", "port": 514}, "event": {"kind": "event", "category": ["network"]},
        "threat": {"enrichments": [{"indicator": {"ip": "203.0.113.7", "name": "203.0.113.0/24"},
                                    "matched": {"atomic": "203.0.113.7", "field": "source.ip"}}]},
        "tapsift": {"format": "rfc5424", "dedup": {"count": 3}}, "cef": {"anything": 1}}
check.eq("a well-formed event has no problems", problems(GOOD), [])

BAD = [
    ({"threat": {"enrichments": [{"indicator": {"ip": "203.0.113.0/24"}}]}},
     "threat.enrichments.indicator.ip: '203.0.113.0/24' is not an ECS ip"),
    ({"event": {"count": 3}}, "event.count: not an ECS field"),
    ({"source": {"port": "514"}}, "source.port: '514' is not an ECS long"),
    ({"source": {"port": True}}, "source.port: True is not an ECS long"),
    ({"event": {"created": "yesterday"}}, "event.created: 'yesterday' is not an ECS date"),
    ({"observer": {"ip": ["10.0.0.1", "not-an-ip"]}}, "observer.ip: 'not-an-ip' is not an ECS ip"),
    ({"syslog": {"pri": 1}}, "syslog.pri: 'syslog' is neither an ECS field set nor a custom namespace"),
    ({"network": {"iana_number": 6}}, "network.iana_number: 6 is not an ECS keyword"),
]
for patch, want in BAD:
    event = dict(GOOD, **patch)
    check.true(f"{patch} is caught as {want!r}: got {problems(event)}", want in problems(event))
check.true("a wrong ecs.version is caught",
           any(p.startswith("ecs.version") for p in problems(dict(GOOD, ecs={"version": "1.0.0"}))))
check.finish()
