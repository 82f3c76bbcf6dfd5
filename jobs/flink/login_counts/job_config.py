"""Runtime configuration of the login-counts job.

Managed Service for Apache Flink hands an application its runtime properties as a JSON file,
`/etc/flink/application_properties.json`: a list of property groups, each
`{"PropertyGroupId": "...", "PropertyMap": {"key": "value", ...}}` with string values. This job
reads the group `lakestream`:

    bootstrap.servers        required  MSK IAM bootstrap brokers, host:port[,host:port...]
    topic.raw                logins.raw       raw login events (input)
    topic.counts             logins.counts    running and per-window counts (compacted output)
    topic.dlq                logins.raw.dlq   rejected raw events with the reason (output)
    consumer.group.id        lakestream-login-counts
    window.minutes           5     tumbling window length, 1..1440
    lateness.seconds         60    how long a window keeps accepting late events, 0..86400
    watermark.seconds        10    bounded out-of-orderness of event time, 0..3600
    idle.timeout.seconds     60    a partition silent this long stops holding back the watermark (0: never)
    max.future.skew.seconds  300   events claiming a time further ahead of the broker clock are rejected
    state.ttl.hours          168   a user's running count is dropped after this long without a login
                                   (table.exec.state.ttl), so no per-user state outlives the erasure deadline

Unknown keys are errors: a typo must fail the start, not silently fall back to a default.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Tuple

PROPERTY_GROUP = "lakestream"
DEFAULT_PROPERTIES_PATH = "/etc/flink/application_properties.json"

_BROKER = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
# Kafka's own rule for topic names (legal characters and length).
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_GROUP_ID = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class ConfigError(ValueError):
    """The application properties are missing, malformed or out of range; the message says which."""


@dataclass(frozen=True)
class JobConfig:
    bootstrap_servers: Tuple[str, ...]
    raw_topic: str = "logins.raw"
    counts_topic: str = "logins.counts"
    dlq_topic: str = "logins.raw.dlq"
    consumer_group_id: str = "lakestream-login-counts"
    window_minutes: int = 5
    lateness_seconds: int = 60
    watermark_seconds: int = 10
    idle_timeout_seconds: int = 60
    max_future_skew_seconds: int = 300
    state_ttl_hours: int = 168

    @property
    def bootstrap_servers_csv(self) -> str:
        return ",".join(self.bootstrap_servers)


def _integer(low: int, high: int) -> Callable[[str, str], int]:
    def parse(key: str, raw: str) -> int:
        text = raw.strip()
        if not re.fullmatch(r"\d+", text):
            raise ConfigError(f"{PROPERTY_GROUP}.{key} must be a whole number between {low} and {high}, got {raw!r}")
        value = int(text)
        if not low <= value <= high:
            raise ConfigError(f"{PROPERTY_GROUP}.{key} must be between {low} and {high}, got {value}")
        return value

    return parse


def _matching(pattern: "re.Pattern[str]", what: str) -> Callable[[str, str], str]:
    def parse(key: str, raw: str) -> str:
        text = raw.strip()
        if not pattern.fullmatch(text):
            raise ConfigError(f"{PROPERTY_GROUP}.{key} must be {what}, got {raw!r}")
        return text

    return parse


def _brokers(key: str, raw: str) -> Tuple[str, ...]:
    brokers = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not brokers:
        raise ConfigError(f"{PROPERTY_GROUP}.{key} must list at least one host:port")
    bad = [broker for broker in brokers if not _BROKER.fullmatch(broker)]
    if bad:
        raise ConfigError(f"{PROPERTY_GROUP}.{key} must be a comma-separated list of host:port, bad entries: {', '.join(bad)}")
    return brokers


_TOPIC_NAME = _matching(_TOPIC, "a Kafka topic name (letters, digits, '.', '_', '-'; at most 249 characters)")

# property key -> (JobConfig field, parser)
_FIELDS: Dict[str, Tuple[str, Callable[[str, str], object]]] = {
    "bootstrap.servers": ("bootstrap_servers", _brokers),
    "topic.raw": ("raw_topic", _TOPIC_NAME),
    "topic.counts": ("counts_topic", _TOPIC_NAME),
    "topic.dlq": ("dlq_topic", _TOPIC_NAME),
    "consumer.group.id": ("consumer_group_id", _matching(_GROUP_ID, "a consumer group id (letters, digits, '.', '_', '-')")),
    "window.minutes": ("window_minutes", _integer(1, 1440)),
    "lateness.seconds": ("lateness_seconds", _integer(0, 86400)),
    "watermark.seconds": ("watermark_seconds", _integer(0, 3600)),
    "idle.timeout.seconds": ("idle_timeout_seconds", _integer(0, 3600)),
    "max.future.skew.seconds": ("max_future_skew_seconds", _integer(0, 86400)),
    "state.ttl.hours": ("state_ttl_hours", _integer(1, 720)),
}
REQUIRED_KEYS = ("bootstrap.servers",)


def config_from_properties(properties: Mapping[str, object]) -> JobConfig:
    """Validates one property map (the `lakestream` group) and returns the job configuration."""
    unknown = sorted(set(properties) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown {PROPERTY_GROUP} properties: {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    missing = [key for key in REQUIRED_KEYS if key not in properties]
    if missing:
        raise ConfigError(f"missing required {PROPERTY_GROUP} properties: {', '.join(missing)}")
    values: Dict[str, object] = {}
    for key, raw in properties.items():
        if not isinstance(raw, str):
            raise ConfigError(f"{PROPERTY_GROUP}.{key} must be a string (Managed Flink passes strings), got {type(raw).__name__}")
        field, parse = _FIELDS[key]
        values[field] = parse(key, raw)
    config = JobConfig(**values)  # type: ignore[arg-type]
    topics = [config.raw_topic, config.counts_topic, config.dlq_topic]
    if len(set(topics)) != len(topics):
        raise ConfigError(f"topic.raw, topic.counts and topic.dlq must be three different topics, got {', '.join(topics)}")
    return config


def parse_application_properties(text: str, group: str = PROPERTY_GROUP) -> JobConfig:
    """Parses the content of application_properties.json and validates the job's group."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"application properties are not valid JSON: {error}") from None
    if not isinstance(document, list):
        raise ConfigError("application properties must be a JSON list of property groups")
    groups: List[Mapping[str, object]] = []
    for entry in document:
        if not isinstance(entry, dict) or not isinstance(entry.get("PropertyGroupId"), str):
            raise ConfigError("every property group needs a PropertyGroupId string and a PropertyMap object")
        if entry["PropertyGroupId"] == group:
            property_map = entry.get("PropertyMap")
            if not isinstance(property_map, dict):
                raise ConfigError(f"property group {group!r} has no PropertyMap object")
            groups.append(property_map)
    if not groups:
        present = ", ".join(str(entry.get("PropertyGroupId")) for entry in document) or "none"
        raise ConfigError(f"property group {group!r} not found in the application properties (groups present: {present})")
    if len(groups) > 1:
        raise ConfigError(f"property group {group!r} appears {len(groups)} times; merge it into one")
    return config_from_properties(groups[0])


def load_application_properties(path: str = DEFAULT_PROPERTIES_PATH, group: str = PROPERTY_GROUP) -> JobConfig:
    """Reads and validates the properties file Managed Flink writes for the application."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ConfigError(f"cannot read application properties at {path}: {error.strerror}") from None
    return parse_application_properties(text, group)
