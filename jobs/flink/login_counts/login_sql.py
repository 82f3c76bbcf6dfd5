"""The job's Flink SQL, generated from its configuration by pure functions.

Plan (all tables are temporary, so nothing is left in a catalog):

    raw_logins (kafka, raw format)           one STRING payload per record + Kafka metadata;
        event_time (computed, UTC)            from the payload's event_time, falling back to the
                                              broker timestamp when absent, unparseable or too far ahead
        WATERMARK event_time - watermark.seconds
    checked_logins (view)                     + rejection = login_rejection(payload, kafka_timestamp),
                                              the Python UDF wrapping login_records.parse_login
    accepted_logins (view)                    rejection IS NULL: user_id, event_time
    INSERT dead-letter topic                  rejection IS NOT NULL, with the reason and provenance
    INSERT running counts (upsert-kafka)      GROUP BY user_id, key = user_id
    INSERT window counts (upsert-kafka)       GROUP BY user_id, TUMBLE(event_time, window.minutes),
                                              key = user_id|window_start, late firing up to lateness.seconds

Windows use the group-window syntax (GROUP BY TUMBLE(...)) rather than the windowing TVFs
because only group windows honour table.exec.emit.allow-lateness: a late event inside the bound
re-fires its window, and the upsert sink overwrites the earlier count for that key.

Every statement is a string so the tests can check it without a Flink cluster.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Tuple

if TYPE_CHECKING:
    from .job_config import JobConfig

REJECTION_UDF = "login_rejection"
RAW_TABLE = "raw_logins"
RUNNING_SINK = "login_counts_running"
WINDOW_SINK = "login_counts_window"
DLQ_SINK = "login_dead_letters"

# An ISO-8601 UTC instant with milliseconds, the format of every timestamp the job writes.
_ISO_MILLIS = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"
_ISO_SECONDS = "yyyy-MM-dd''T''HH:mm:ss''Z''"


@dataclass(frozen=True)
class JobPlan:
    """What main() executes: table settings, then DDL in order, then the INSERTs as one statement set."""

    table_config: Dict[str, str]
    ddl: Tuple[str, ...]
    inserts: Tuple[str, ...]


def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _with_clause(options: List[Tuple[str, str]]) -> str:
    return "WITH (\n" + ",\n".join(f"  {sql_string(key)} = {sql_string(value)}" for key, value in options) + "\n)"


def msk_iam_options(config: "JobConfig") -> List[Tuple[str, str]]:
    """Kafka client settings for MSK with IAM access control (TLS on port 9098, SigV4-signed SASL)."""
    return [
        ("properties.bootstrap.servers", config.bootstrap_servers_csv),
        ("properties.security.protocol", "SASL_SSL"),
        ("properties.sasl.mechanism", "AWS_MSK_IAM"),
        ("properties.sasl.jaas.config", "software.amazon.msk.auth.iam.IAMLoginModule required;"),
        ("properties.sasl.client.callback.handler.class", "software.amazon.msk.auth.iam.IAMClientCallbackHandler"),
    ]


def event_time_expression(max_future_skew_seconds: int) -> str:
    """SQL for the event-time column, from physical and metadata columns only (Flink forbids
    computed columns that reference computed columns).

    Mirrors login_records.parse_event_time for every string that function accepts:
    "YYYY-MM-DD[T ]HH:MM:SS[.f]" + "Z" | "+hh:mm" | "-hh:mm", the fraction dropped (a login's
    window never depends on sub-second precision because windows are whole minutes). For other
    records the expression may be NULL; those records are rejected by the UDF and only the
    broker-time fallback keeps them from holding back the watermark. The fallback also applies
    to claimed times beyond max_future_skew_seconds, which the UDF rejects too.
    """
    text = "JSON_VALUE(`payload`, '$.event_time' NULL ON EMPTY NULL ON ERROR)"
    local = f"TO_TIMESTAMP(CONCAT(SUBSTRING({text} FROM 1 FOR 10), ' ', SUBSTRING({text} FROM 12 FOR 8)))"
    zone_sign = f"SUBSTRING({text} FROM CHAR_LENGTH({text}) - 5 FOR 1)"
    zone_hours = f"TRY_CAST(SUBSTRING({text} FROM CHAR_LENGTH({text}) - 4 FOR 2) AS INT)"
    zone_minutes = f"TRY_CAST(SUBSTRING({text} FROM CHAR_LENGTH({text}) - 1 FOR 2) AS INT)"
    offset_minutes = (
        f"CASE WHEN {text} LIKE '%Z' THEN 0 "
        f"WHEN {zone_sign} = '+' THEN {zone_hours} * 60 + {zone_minutes} "
        f"WHEN {zone_sign} = '-' THEN -({zone_hours} * 60 + {zone_minutes}) END"
    )
    claimed = f"TIMESTAMPADD(MINUTE, -({offset_minutes}), {local})"
    broker = "CAST(`kafka_timestamp` AS TIMESTAMP(3))"
    return (
        f"CASE WHEN {claimed} IS NULL OR {claimed} > {broker} + INTERVAL '{max_future_skew_seconds}' SECOND "
        f"THEN {broker} ELSE {claimed} END"
    )


def raw_table_ddl(config: "JobConfig") -> str:
    options = [
        ("connector", "kafka"),
        ("topic", config.raw_topic),
        ("properties.group.id", config.consumer_group_id),
        # Committed offsets on first start (none yet: from the beginning of the topic); afterwards
        # Managed Flink restores the offsets from the snapshot.
        ("scan.startup.mode", "group-offsets"),
        ("properties.auto.offset.reset", "earliest"),
        ("format", "raw"),
        ("raw.charset", "UTF-8"),
        *msk_iam_options(config),
    ]
    return (
        f"CREATE TEMPORARY TABLE {RAW_TABLE} (\n"
        "  `payload` STRING,\n"
        "  `kafka_topic` STRING METADATA FROM 'topic' VIRTUAL,\n"
        "  `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,\n"
        "  `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,\n"
        "  `kafka_timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n"
        f"  `event_time` AS {event_time_expression(config.max_future_skew_seconds)},\n"
        f"  WATERMARK FOR `event_time` AS `event_time` - INTERVAL '{config.watermark_seconds}' SECOND\n"
        f") {_with_clause(options)}"
    )


def _upsert_sink_options(config: "JobConfig") -> List[Tuple[str, str]]:
    return [
        ("connector", "upsert-kafka"),
        ("topic", config.counts_topic),
        *msk_iam_options(config),
        ("key.format", "raw"),
        ("value.format", "json"),
        ("value.fields-include", "EXCEPT_KEY"),
        # Coalesce bursts of updates to one key into one record per flush; the topic is compacted anyway.
        ("sink.buffer-flush.max-rows", "1000"),
        ("sink.buffer-flush.interval", "1s"),
    ]


def running_sink_ddl(config: "JobConfig") -> str:
    return (
        f"CREATE TEMPORARY TABLE {RUNNING_SINK} (\n"
        "  `record_key` STRING NOT NULL,\n"
        "  `user_id` STRING,\n"
        "  `login_count` BIGINT,\n"
        "  `kind` STRING,\n"
        "  `emitted_at` STRING,\n"
        "  PRIMARY KEY (`record_key`) NOT ENFORCED\n"
        f") {_with_clause(_upsert_sink_options(config))}"
    )


def window_sink_ddl(config: "JobConfig") -> str:
    return (
        f"CREATE TEMPORARY TABLE {WINDOW_SINK} (\n"
        "  `record_key` STRING NOT NULL,\n"
        "  `user_id` STRING,\n"
        "  `window_start` STRING,\n"
        "  `window_end` STRING,\n"
        "  `window_login_count` BIGINT,\n"
        "  `kind` STRING,\n"
        "  `emitted_at` STRING,\n"
        "  PRIMARY KEY (`record_key`) NOT ENFORCED\n"
        f") {_with_clause(_upsert_sink_options(config))}"
    )


def dlq_sink_ddl(config: "JobConfig") -> str:
    options = [
        ("connector", "kafka"),
        ("topic", config.dlq_topic),
        *msk_iam_options(config),
        ("value.format", "json"),
        ("sink.delivery-guarantee", "at-least-once"),
    ]
    return (
        f"CREATE TEMPORARY TABLE {DLQ_SINK} (\n"
        "  `reason` STRING,\n"
        "  `payload` STRING,\n"
        "  `source_topic` STRING,\n"
        "  `source_partition` INT,\n"
        "  `source_offset` BIGINT,\n"
        "  `broker_timestamp` STRING,\n"
        "  `rejected_at` STRING\n"
        f") {_with_clause(options)}"
    )


def checked_view_ddl() -> str:
    return (
        "CREATE TEMPORARY VIEW checked_logins AS\n"
        "SELECT `payload`, `kafka_topic`, `kafka_partition`, `kafka_offset`, `kafka_timestamp`, `event_time`,\n"
        f"  {REJECTION_UDF}(`payload`, `kafka_timestamp`) AS `rejection`\n"
        f"FROM {RAW_TABLE}"
    )


def accepted_view_ddl() -> str:
    return (
        "CREATE TEMPORARY VIEW accepted_logins AS\n"
        "SELECT TRIM(BOTH ' ' FROM JSON_VALUE(`payload`, '$.user_id' NULL ON EMPTY NULL ON ERROR)) AS `user_id`,\n"
        "  `event_time`\n"
        "FROM checked_logins\n"
        "WHERE `rejection` IS NULL"
    )


def dlq_insert() -> str:
    return (
        f"INSERT INTO {DLQ_SINK}\n"
        "SELECT `rejection`, `payload`, `kafka_topic`, `kafka_partition`, `kafka_offset`,\n"
        f"  DATE_FORMAT(`kafka_timestamp`, '{_ISO_MILLIS}'),\n"
        f"  DATE_FORMAT(CURRENT_TIMESTAMP, '{_ISO_MILLIS}')\n"
        "FROM checked_logins\n"
        "WHERE `rejection` IS NOT NULL"
    )


def running_insert() -> str:
    return (
        f"INSERT INTO {RUNNING_SINK}\n"
        "SELECT `user_id`, `user_id`, COUNT(*), 'running',\n"
        f"  DATE_FORMAT(CURRENT_TIMESTAMP, '{_ISO_MILLIS}')\n"
        "FROM accepted_logins\n"
        "GROUP BY `user_id`"
    )


def window_insert(config: "JobConfig") -> str:
    window = f"TUMBLE(`event_time`, INTERVAL '{config.window_minutes}' MINUTE)"
    start = f"DATE_FORMAT(TUMBLE_START(`event_time`, INTERVAL '{config.window_minutes}' MINUTE), '{_ISO_SECONDS}')"
    end = f"DATE_FORMAT(TUMBLE_END(`event_time`, INTERVAL '{config.window_minutes}' MINUTE), '{_ISO_SECONDS}')"
    return (
        f"INSERT INTO {WINDOW_SINK}\n"
        f"SELECT CONCAT(`user_id`, '|', {start}), `user_id`, {start}, {end}, COUNT(*), 'window',\n"
        f"  DATE_FORMAT(CURRENT_TIMESTAMP, '{_ISO_MILLIS}')\n"
        "FROM accepted_logins\n"
        f"GROUP BY `user_id`, {window}"
    )


def build_table_config(config: "JobConfig") -> Dict[str, str]:
    """Table settings the statements depend on (checkpointing and parallelism are Managed Flink's)."""
    settings = {
        # Event times, window bounds and emitted_at are all rendered in UTC.
        "table.local-time-zone": "UTC",
        "pipeline.name": "lakestream-login-counts",
        # Each upsert stream comes from one aggregation keyed exactly like its sink, so per-key order
        # is already right; the materializer would only add unbounded state.
        "table.exec.sink.upsert-materialize": "NONE",
        # The source is shared by the three INSERTs instead of being read three times.
        "table.optimizer.reuse-source-enabled": "true",
        "table.optimizer.reuse-sub-plan-enabled": "true",
    }
    if config.idle_timeout_seconds > 0:
        settings["table.exec.source.idle-timeout"] = f"{config.idle_timeout_seconds} s"
    if config.lateness_seconds > 0:
        settings["table.exec.emit.allow-lateness"] = f"{config.lateness_seconds} s"
        settings["table.exec.emit.late-fire.enabled"] = "true"
        # Re-fire on every late event; the upsert sink's buffer coalesces them.
        settings["table.exec.emit.late-fire.delay"] = "0 s"
    return settings


def build_plan(config: "JobConfig") -> JobPlan:
    return JobPlan(
        table_config=build_table_config(config),
        ddl=(
            raw_table_ddl(config),
            running_sink_ddl(config),
            window_sink_ddl(config),
            dlq_sink_ddl(config),
            checked_view_ddl(),
            accepted_view_ddl(),
        ),
        inserts=(dlq_insert(), running_insert(), window_insert(config)),
    )


def build_statements(config: "JobConfig") -> List[str]:
    """Every statement in execution order: DDL first, then the INSERTs (run together as one statement set)."""
    plan = build_plan(config)
    return [*plan.ddl, *plan.inserts]
