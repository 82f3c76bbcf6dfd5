"""The job's Flink SQL, generated from its configuration by pure functions.

Plan (all tables are temporary, so nothing is left in a catalog):

    raw_logins (kafka, raw format)           one BYTES payload per record + Kafka metadata;
        event_time (computed, UTC)            from the payload's event_time, falling back to the
                                              broker timestamp when absent, unparseable or too far ahead
        WATERMARK event_time - watermark.seconds
    checked_logins (view)                     + rejection = login_rejection(payload, kafka_timestamp),
                                              the Python UDF wrapping login_records.parse_login
    accepted_logins (view)                    rejection IS NULL: user_id, event_time
    INSERT dead-letter topic                  rejection IS NOT NULL, with the reason and provenance
    INSERT running counts (upsert-kafka)      GROUP BY user_id, key = user_id,
                                              Kafka timestamp = the newest counted event time
    INSERT window counts (upsert-kafka)       GROUP BY user_id, TUMBLE(event_time, window.minutes),
                                              key = user_id|window_start, Kafka timestamp = window_end,
                                              late firing up to lateness.seconds
Both count records follow jobs/contracts/login-count-event.schema.json (OUTPUT_SCHEMA_VERSION).

Windows use the group-window syntax (GROUP BY TUMBLE(...)) rather than the windowing TVFs
because only group windows honour table.exec.emit.allow-lateness: a late event inside the bound
re-fires its window, and the upsert sink overwrites the earlier count for that key.

Interval literals: Calcite's default leading-field precision is 2, so `INTERVAL '300' SECOND` fails
planning ("exceeds precision of SECOND(2) field"), and Flink's FlinkTypeFactory refuses day-time
interval types whose precision is above 3 ("DAY_INTERVAL_TYPES precision is not supported"), so
`SECOND(5)` is no way out either. interval_literal() writes every duration with leading fields
below 100 (the default precision): a whole unit when it fits, else `'d hh:mm:ss' DAY TO SECOND`.

Every statement is a string so the tests can check it without a Flink cluster.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Tuple

if TYPE_CHECKING:
    from .job_config import JobConfig

REJECTION_UDF = "login_rejection"
# jobs/contracts/login-count-event.schema.json's x-schema-version; a test keeps the two equal.
OUTPUT_SCHEMA_VERSION = 2
RAW_TABLE = "raw_logins"
RUNNING_SINK = "login_counts_running"
WINDOW_SINK = "login_counts_window"
DLQ_SINK = "login_dead_letters"

# The record value arrives as bytes, so the UDF sees exactly what was sent (invalid UTF-8
# included); SQL reads it as text, which is the same text for every record the UDF accepts.
PAYLOAD_TEXT = "CAST(`payload` AS STRING)"

# Where a job without restored state starts reading (see raw_table_ddl).
STARTUP_MODE = "earliest-offset"

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


# Calcite's default leading-field precision: the leading field of a literal must stay below 10**2.
_LEADING_FIELD_LIMIT = 100
_UNITS = (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60), ("SECOND", 1))


def interval_literal(seconds: int) -> str:
    """A day-time interval literal Flink plans for any whole number of seconds below 100 days.

    A single unit when the duration is a whole number of it below 100 (INTERVAL '5' MINUTE),
    otherwise DAY TO SECOND, whose trailing fields are bounded by their unit (hours < 24, minutes
    and seconds < 60) and whose leading field (days) stays below 100.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"an interval needs a whole, non-negative number of seconds, got {seconds!r}")
    if seconds >= _LEADING_FIELD_LIMIT * 86400:
        raise ValueError(f"{seconds} seconds is 100 days or more; DAY(2) cannot hold it")
    if seconds == 0:
        return "INTERVAL '0' SECOND"
    for unit, size in _UNITS:
        if seconds % size == 0 and seconds // size < _LEADING_FIELD_LIMIT:
            return f"INTERVAL '{seconds // size}' {unit}"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{secs:02d}' DAY TO SECOND"


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

    The login-event contract allows only UTC times, "YYYY-MM-DDTHH:MM:SS[.fraction]Z", so for every
    accepted record the first 19 characters are the UTC instant; the fraction is dropped (windows
    are whole minutes, so it never moves an event across a window boundary). For other records the
    expression may be NULL or meaningless; those records are rejected by the UDF, and the broker-time
    fallback keeps them from holding back or dragging forward the watermark. The fallback also
    applies to claimed times beyond max_future_skew_seconds, which the UDF rejects too.
    """
    text = f"JSON_VALUE({PAYLOAD_TEXT}, '$.event_time' NULL ON EMPTY NULL ON ERROR)"
    # SUBSTR(s, start, length), 1-based; the same as SUBSTRING(s FROM start FOR length) in Flink.
    claimed = f"TO_TIMESTAMP(CONCAT(SUBSTR({text}, 1, 10), ' ', SUBSTR({text}, 12, 8)))"
    broker = "CAST(`kafka_timestamp` AS TIMESTAMP(3))"
    return f"CASE WHEN {claimed} IS NULL OR {claimed} > {broker} + {interval_literal(max_future_skew_seconds)} " f"THEN {broker} ELSE {claimed} END"


def raw_table_ddl(config: "JobConfig") -> str:
    options = [
        ("connector", "kafka"),
        ("topic", config.raw_topic),
        ("properties.group.id", config.consumer_group_id),
        # Only a start without restored state uses this: a restored snapshot carries the source's
        # offsets (Flink never resumes from the group's committed offsets, which it commits for
        # lag monitoring only). A fresh start must rebuild the running counts from the start of
        # retention instead of counting from 0 at the group's last position and overwriting the
        # compacted topic with lower totals; the Flink starter restores whenever a snapshot exists.
        ("scan.startup.mode", STARTUP_MODE),
        ("format", "raw"),
        *msk_iam_options(config),
    ]
    return (
        f"CREATE TEMPORARY TABLE {RAW_TABLE} (\n"
        "  `payload` BYTES,\n"
        "  `kafka_topic` STRING METADATA FROM 'topic' VIRTUAL,\n"
        "  `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,\n"
        "  `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,\n"
        "  `kafka_timestamp` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n"
        f"  `event_time` AS {event_time_expression(config.max_future_skew_seconds)},\n"
        f"  WATERMARK FOR `event_time` AS `event_time` - {interval_literal(config.watermark_seconds)}\n"
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


@dataclass(frozen=True)
class SinkColumn:
    """One column of a counts sink and the SELECT expression that fills it."""

    name: str
    sql_type: str
    expression: str
    # Kafka metadata written by the connector instead of a value field (the record timestamp).
    metadata: str = ""

    def ddl(self) -> str:
        source = f" METADATA FROM {sql_string(self.metadata)}" if self.metadata else ""
        return f"  `{self.name}` {self.sql_type}{source},\n"


def _emitted_at() -> str:
    return f"DATE_FORMAT(CURRENT_TIMESTAMP, '{_ISO_MILLIS}')"


def _window_bound(function: str, config: "JobConfig") -> str:
    return f"{function}(`event_time`, {interval_literal(config.window_minutes * 60)})"


def _window_text(function: str, config: "JobConfig") -> str:
    return f"DATE_FORMAT({_window_bound(function, config)}, '{_ISO_SECONDS}')"


# The Kafka record timestamp of a count is event time, so consumers that partition or window by
# it (e.g. the Spark bronze job) place the record where its logins happened, not when Flink sent it.
_RECORD_TIMESTAMP = "TIMESTAMP_LTZ(3)"


def running_columns() -> Tuple[SinkColumn, ...]:
    return (
        SinkColumn("record_key", "STRING NOT NULL", "`user_id`"),
        SinkColumn("user_id", "STRING", "`user_id`"),
        SinkColumn("login_count", "BIGINT", "COUNT(*)"),
        SinkColumn("kind", "STRING", "'running'"),
        SinkColumn("emitted_at", "STRING", _emitted_at()),
        SinkColumn("schema_version", "INT", str(OUTPUT_SCHEMA_VERSION)),
        # The newest event time counted so far.
        SinkColumn("record_time", _RECORD_TIMESTAMP, f"CAST(MAX(`event_time`) AS {_RECORD_TIMESTAMP})", metadata="timestamp"),
    )


def window_columns(config: "JobConfig") -> Tuple[SinkColumn, ...]:
    start = _window_text("TUMBLE_START", config)
    return (
        SinkColumn("record_key", "STRING NOT NULL", f"CONCAT(`user_id`, '|', {start})"),
        SinkColumn("user_id", "STRING", "`user_id`"),
        SinkColumn("login_count", "BIGINT", "COUNT(*)"),
        SinkColumn("kind", "STRING", "'window'"),
        SinkColumn("window_start", "STRING", start),
        SinkColumn("window_end", "STRING", _window_text("TUMBLE_END", config)),
        SinkColumn("emitted_at", "STRING", _emitted_at()),
        SinkColumn("schema_version", "INT", str(OUTPUT_SCHEMA_VERSION)),
        # The window's end (exclusive): every login it counts happened before it.
        SinkColumn("record_time", _RECORD_TIMESTAMP, f"CAST({_window_bound('TUMBLE_END', config)} AS {_RECORD_TIMESTAMP})", metadata="timestamp"),
    )


def _sink_ddl(name: str, columns: Tuple[SinkColumn, ...], config: "JobConfig") -> str:
    return (
        f"CREATE TEMPORARY TABLE {name} (\n" + "".join(column.ddl() for column in columns) + "  PRIMARY KEY (`record_key`) NOT ENFORCED\n"
        f") {_with_clause(_upsert_sink_options(config))}"
    )


def running_sink_ddl(config: "JobConfig") -> str:
    return _sink_ddl(RUNNING_SINK, running_columns(), config)


def window_sink_ddl(config: "JobConfig") -> str:
    return _sink_ddl(WINDOW_SINK, window_columns(config), config)


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
    # user_id exactly as the contract validated it (no trimming): it is also the Kafka key the
    # ingestion glue gave the raw record, so counts and raw events agree on who logged in.
    return (
        "CREATE TEMPORARY VIEW accepted_logins AS\n"
        f"SELECT JSON_VALUE({PAYLOAD_TEXT}, '$.user_id' NULL ON EMPTY NULL ON ERROR) AS `user_id`,\n"
        "  `event_time`\n"
        "FROM checked_logins\n"
        "WHERE `rejection` IS NULL"
    )


def dlq_insert() -> str:
    return (
        f"INSERT INTO {DLQ_SINK}\n"
        f"SELECT `rejection`, {PAYLOAD_TEXT}, `kafka_topic`, `kafka_partition`, `kafka_offset`,\n"
        f"  DATE_FORMAT(`kafka_timestamp`, '{_ISO_MILLIS}'),\n"
        f"  DATE_FORMAT(CURRENT_TIMESTAMP, '{_ISO_MILLIS}')\n"
        "FROM checked_logins\n"
        "WHERE `rejection` IS NOT NULL"
    )


def _select_list(columns: Tuple[SinkColumn, ...]) -> str:
    return ",\n  ".join(column.expression for column in columns)


def running_insert() -> str:
    return f"INSERT INTO {RUNNING_SINK}\n" f"SELECT {_select_list(running_columns())}\n" "FROM accepted_logins\n" "GROUP BY `user_id`"


def window_insert(config: "JobConfig") -> str:
    return (
        f"INSERT INTO {WINDOW_SINK}\n"
        f"SELECT {_select_list(window_columns(config))}\n"
        "FROM accepted_logins\n"
        f"GROUP BY `user_id`, {_window_bound('TUMBLE', config)}"
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
        # The running counts (GROUP BY user_id) would otherwise keep every user's state forever; idle
        # state expires after the TTL, so personal data in state is bounded (GDPR). Windows clean
        # their own state after window end plus lateness, well inside the TTL.
        "table.exec.state.ttl": f"{config.state_ttl_hours} h",
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
