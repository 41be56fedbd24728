"""The shape of tapsift's events checked against the ECS field definitions (ecs-fields.tsv).

Every leaf of an event is either under one of tapsift's own namespaces (CUSTOM_NAMESPACES,
named as Elastic's integrations name them), or an ECS field whose value fits its ECS type as
Elasticsearch would index it: an `ip` parses as one address (not a network), a `long` is an
integer, a `date` is ISO 8601, a `keyword` is a string. Below an `object` or `flattened` field
(labels, log.syslog.structured_data) anything goes, as in ECS.

ecs-fields.tsv holds the ECS definitions (field, type) of the fields tapsift writes, copied from
elastic/ecs generated/csv/fields.csv; its header says which version, and marks the one
Filebeat field tapsift writes (log.source.address). A new ECS field in an event
needs its row copied from there; a name not in ECS belongs under a custom namespace instead."""
import datetime
import ipaddress
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Not ECS field sets: tapsift's own fields, and the namespaces Elastic's integrations use for
# what ECS has no field for (cef.* of the CEF module, netflow.*, sflow.*, cisco.ios.*).
CUSTOM_NAMESPACES = {"tapsift", "cef", "leef", "netflow", "sflow", "cisco"}

KEYWORD_TYPES = {"keyword", "constant_keyword", "wildcard", "text", "match_only_text"}
INTEGER_TYPES = {"long", "integer", "short", "byte", "unsigned_long"}
FLOAT_TYPES = {"float", "double", "scaled_float", "half_float"}
OPEN_TYPES = {"object", "flattened"}


def load_fields(path=os.path.join(HERE, "ecs-fields.tsv")):
    """{field: type} and the ECS version the table was copied from."""
    fields, version = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# ecs-version:"):
                version = line.split(":", 1)[1].strip()
            if not line or line.startswith("#"):
                continue
            name, kind = line.split("\t")[:2]
            fields[name] = kind
    return fields, version


FIELDS, ECS_VERSION = load_fields()
FIELD_SETS = {name.split(".")[0] for name in FIELDS}


def leaves(value, prefix=""):
    """(path, value) of every leaf; a list of values is one field with several values, and a
    list of objects (a `nested` field such as threat.enrichments) is walked object by object."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for v in value:
            yield from leaves(v, prefix)
    else:
        yield prefix, value


def open_parent(path):
    """The object/flattened ECS field that `path` lies under, or None."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        if FIELDS.get(".".join(parts[:i])) in OPEN_TYPES:
            return ".".join(parts[:i])
    return None


def fits(kind, value):
    """Does one value fit the ECS type `kind`?"""
    if kind in KEYWORD_TYPES:
        return isinstance(value, str)
    if kind in INTEGER_TYPES:
        return isinstance(value, int) and not isinstance(value, bool) and (kind != "unsigned_long" or value >= 0)
    if kind in FLOAT_TYPES:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
            return True
        except (TypeError, ValueError):
            return False
    if kind == "date":
        try:
            return isinstance(value, str) and datetime.datetime.fromisoformat(_iso_prefix(value)) is not None
        except (TypeError, ValueError, AttributeError):
            return False
    return False


def _iso_prefix(value):
    """An RFC 3339 time as Python's fromisoformat (3.11 and older) takes it: microseconds at most."""
    head, sep, frac = value.replace("Z", "+00:00").partition(".")
    if not sep:
        return head
    digits = len(frac) - len(frac.lstrip("0123456789"))
    return f"{head}.{frac[:min(digits, 6)].ljust(6, '0')}{frac[digits:]}"


def problems(event):
    """What in one event does not fit ECS: ['path: reason']."""
    found = []
    if event.get("ecs", {}).get("version") != ECS_VERSION:
        found.append(f"ecs.version: {event.get('ecs', {}).get('version')!r}, the table is ECS {ECS_VERSION}")
    for path, value in leaves(event):
        top = path.split(".")[0]
        if top in CUSTOM_NAMESPACES:
            continue
        kind = FIELDS.get(path)
        if kind is None:
            if open_parent(path) is not None:
                continue
            why = "not an ECS field" if top in FIELD_SETS else f"'{top}' is neither an ECS field set nor a custom namespace"
            found.append(f"{path}: {why}")
            continue
        for v in value if isinstance(value, list) else [value]:
            if not fits(kind, v):
                found.append(f"{path}: {v!r} is not an ECS {kind}")
    return found


def check_ecs_shape(check, what, events):
    """One check per event: every field fits ECS. events: [event] or [(key, event)]."""
    for i, e in enumerate(events):
        event = e[1] if isinstance(e, tuple) else e
        p = problems(event)
        check.true(f"{what} event {i}: ECS {ECS_VERSION} shape: " + "; ".join(p[:5]), not p)
