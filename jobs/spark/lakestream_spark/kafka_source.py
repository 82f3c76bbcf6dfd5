"""Kafka source options and the bronze projection of each topic, as plain data for the streaming job."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Optional, Tuple

from lakestream_spark.contract import LoginEvent, validate_login_bytes
from lakestream_spark.schemas import Column
from lakestream_spark.user_ref import USER_REF_FUNCTION

# MSK IAM authentication: the aws-msk-iam-auth library signs the SASL handshake with the job
# execution role's credentials, so the job holds no Kafka secret.
MSK_IAM_OPTIONS: Dict[str, str] = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}

KAFKA_METADATA_COLUMNS: Tuple[str, ...] = (
    "topic",
    "partition AS kafka_partition",
    "offset AS kafka_offset",
    "timestamp AS kafka_timestamp",
    "CAST(key AS STRING) AS key",
    "CAST(value AS STRING) AS value",
)


def kafka_source_options(
    bootstrap_servers: str,
    topic: str,
    starting_offsets: str,
    max_offsets_per_trigger: Optional[int],
    fail_on_data_loss: bool,
    group_id_prefix: str = "lakestream-spark-bronze",
) -> Dict[str, str]:
    """Options for `spark.readStream.format("kafka")` reading one topic over MSK IAM.

    Spark names its consumer groups `<groupIdPrefix>-<uuid>-...` per query and keeps offsets in its
    checkpoints; the prefix is what the job role's MSK IAM grant on groups is scoped to.
    """
    if not bootstrap_servers.strip():
        raise ValueError("bootstrap servers must not be empty")
    if not group_id_prefix or not group_id_prefix.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise ValueError(f"group id prefix must be letters, digits, '-', '_' or '.', got {group_id_prefix!r}")
    options = {
        "kafka.bootstrap.servers": bootstrap_servers.strip(),
        "subscribe": topic,
        "groupIdPrefix": group_id_prefix,
        "startingOffsets": starting_offsets,
        "failOnDataLoss": "true" if fail_on_data_loss else "false",
        **MSK_IAM_OPTIONS,
    }
    if max_offsets_per_trigger is not None:
        options["maxOffsetsPerTrigger"] = str(max_offsets_per_trigger)
    return options


# Where the streaming job's future-skew rule measures from, and how far: the record's Kafka
# timestamp, with the Flink job's default bound (login_counts job_config max.future.skew.seconds), so
# streaming bronze and the Flink counts reject the same records. Using the Kafka timestamp instead
# of the job's clock also makes the verdict the same when Spark re-runs a failed micro-batch.
DEFAULT_MAX_FUTURE_SKEW_SECONDS = 300
MAX_FUTURE_SKEW_SECONDS_RANGE = (0, 86400)

# SQL name of the Python UDF that checks each raw login record against the contract (registered by
# streaming_bronze.main, called in login_projection).
LOGIN_UDF_NAME = "lakestream_login_contract"
# What the UDF returns for each record, in the order of parse_login_value's tuple. event_time is
# epoch microseconds: a number reaches the JVM unchanged, while a datetime would depend on the
# Python worker's time zone.
LOGIN_PARSE_FIELDS: Tuple[Column, ...] = (
    ("event_id", "STRING"),
    ("user_id", "STRING"),
    ("event_time_micros", "BIGINT"),
    ("source", "STRING"),
    ("schema_version", "INT"),
    ("reject_code", "STRING"),
    ("reject_detail", "STRING"),
)
LOGIN_PARSE_TYPE = "STRUCT<" + ", ".join(f"{name}: {spark_type}" for name, spark_type in LOGIN_PARSE_FIELDS) + ">"
# Rejection details land in bronze next to the raw value; the start of a detail says enough.
MAX_REJECT_DETAIL_CHARS = 500

LoginParse = Tuple[Optional[str], Optional[str], Optional[int], Optional[str], Optional[int], Optional[str], Optional[str]]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_login_value(
    value: Optional[bytes], kafka_timestamp_millis: Optional[int], max_future_skew_seconds: int = DEFAULT_MAX_FUTURE_SKEW_SECONDS
) -> LoginParse:
    """The streaming job's verdict on one raw Kafka record (the UDF body, see LOGIN_PARSE_FIELDS).

    `value` is the record's bytes as Kafka holds them (a pickled UDF receives a bytearray): invalid
    UTF-8 is rejected, as the glue and the Flink job reject it. The contract check is the shared
    validator (lakestream_spark.contract.validate_login_bytes), the same as the landing job's.
    """
    reference = None if kafka_timestamp_millis is None else _EPOCH + timedelta(milliseconds=kafka_timestamp_millis)
    outcome = validate_login_bytes(value, reference, timedelta(seconds=max_future_skew_seconds))
    if isinstance(outcome, LoginEvent):
        micros = (outcome.event_time - _EPOCH) // timedelta(microseconds=1)
        return (outcome.event_id, outcome.user_id, micros, outcome.source, outcome.schema_version, None, None)
    return (None, None, None, None, None, outcome.code, outcome.detail[:MAX_REJECT_DETAIL_CHARS])


@dataclass(frozen=True)
class UdfRegistration:
    """What streaming_bronze.main hands to `spark.udf.register(name, udf(function, return_type, useArrow=use_arrow))`."""

    name: str
    function: Callable[[Optional[bytes], Optional[int]], LoginParse]
    return_type: str
    # A pickled (row-at-a-time batched) UDF: Arrow would need pyarrow and pandas on the workers,
    # which the job does not ship, and would save only the (de)serialisation, a few percent of the
    # validator's own time per record (see the README).
    use_arrow: bool = False


def login_udf_registration(max_future_skew_seconds: int = DEFAULT_MAX_FUTURE_SKEW_SECONDS) -> UdfRegistration:
    """The login contract UDF, bound to the skew bound (a plain closure: cloudpickle ships it to the workers)."""
    low, high = MAX_FUTURE_SKEW_SECONDS_RANGE
    if not low <= max_future_skew_seconds <= high:
        raise ValueError(f"max future skew must be from {low} to {high} seconds, got {max_future_skew_seconds}")

    def check(value: Optional[bytes], kafka_timestamp_millis: Optional[int]) -> LoginParse:
        return parse_login_value(value, kafka_timestamp_millis, max_future_skew_seconds)

    return UdfRegistration(LOGIN_UDF_NAME, check, LOGIN_PARSE_TYPE)


@dataclass(frozen=True)
class BronzeProjection:
    """Two selectExpr stages turning the Kafka record into a bronze row (event_time, dt and hr included)."""

    parse: Tuple[str, ...]
    project: Tuple[str, ...]


def login_projection() -> BronzeProjection:
    """Raw login events: the contract UDF's verdict and fields, the raw value kept.

    Records that fail the contract are kept with is_valid = false and the rejection's code and
    detail, their contract fields NULL: bronze is the raw record of what arrived, and reports filter
    on is_valid. Partitioning falls back to the Kafka timestamp for them.
    """
    return BronzeProjection(
        # The UDF sees the Kafka source's own columns: value as binary, timestamp as a timestamp.
        parse=("*", f"{LOGIN_UDF_NAME}(value, unix_millis(timestamp)) AS login"),
        project=(
            *KAFKA_METADATA_COLUMNS,
            "login.event_id AS event_id",
            "login.user_id AS user_id",
            "timestamp_micros(login.event_time_micros) AS parsed_event_time",
            "login.source AS source",
            "login.schema_version AS schema_version",
            "login.reject_code AS reject_code",
            "login.reject_detail AS reject_detail",
        ),
    )


def record_projection() -> BronzeProjection:
    """Any other topic (e.g. the Flink login counts): the raw record, partitioned by the Kafka
    timestamp, which the Flink job sets to the event time of what it emits, with the keyed
    pseudonym of its user_id."""
    return BronzeProjection(
        parse=("*",),
        project=(
            *KAFKA_METADATA_COLUMNS,
            "CAST(NULL AS TIMESTAMP) AS parsed_event_time",
            # Pseudonymous reference for per-user dashboard panels (lakestream_spark.user_ref); NULL
            # when the record carries no user_id.
            f"{USER_REF_FUNCTION}(get_json_object(CAST(value AS STRING), '$.user_id')) AS user_ref",
        ),
    )


def finishing_columns(with_contract: bool) -> Tuple[str, ...]:
    """Final columns shared by every topic: event time, validity, ingestion time and partitions."""
    columns = [
        "*",
        "coalesce(parsed_event_time, kafka_timestamp) AS event_time",
        "current_timestamp() AS ingested_at",
    ]
    if with_contract:
        # The UDF's verdict: accepted records carry no rejection code (and always an event id).
        columns.append("(reject_code IS NULL AND event_id IS NOT NULL) AS is_valid")
    return tuple(columns)
