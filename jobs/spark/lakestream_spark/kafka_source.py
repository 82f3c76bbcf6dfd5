"""Kafka source options and the bronze projection of each topic, as plain data for the streaming job."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from lakestream_spark.contract import LOGIN_FIELDS, SOURCES, SUPPORTED_SCHEMA_VERSIONS, USER_ID_MAX_LENGTH

# MSK IAM authentication: the aws-msk-iam-auth library signs the SASL handshake with the job
# execution role's credentials, so the job holds no Kafka secret.
MSK_IAM_OPTIONS: Dict[str, str] = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "AWS_MSK_IAM",
    "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}

# Spark DDL of the login contract as it arrives on Kafka (JSON). schema_version stays a string here
# and is cast in the projection, so a value like "1" or 1 both parse.
LOGIN_JSON_SCHEMA_DDL = ", ".join(f"{field} STRING" for field in LOGIN_FIELDS)

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


@dataclass(frozen=True)
class BronzeProjection:
    """Two selectExpr stages turning the Kafka record into a bronze row (event_time, dt and hr included)."""

    parse: Tuple[str, ...]
    project: Tuple[str, ...]


def login_projection() -> BronzeProjection:
    """Raw login events: the contract's fields parsed from the JSON value, the raw value kept.

    Records that do not parse (or lack an id, a user or a valid timestamp) are kept with
    is_valid = false: bronze is the raw record of what arrived, and reports filter on is_valid.
    Partitioning falls back to the Kafka timestamp when the event time is unusable.
    """
    return BronzeProjection(
        parse=(*KAFKA_METADATA_COLUMNS, f"from_json(CAST(value AS STRING), '{LOGIN_JSON_SCHEMA_DDL}') AS login"),
        project=(
            "topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "key", "value",
            "login.event_id AS event_id",
            "login.user_id AS user_id",
            "to_timestamp(login.event_time) AS parsed_event_time",
            "login.source AS source",
            "CAST(login.schema_version AS INT) AS schema_version",
        ),
    )


def record_projection() -> BronzeProjection:
    """Any other topic (e.g. the Flink login counts): the raw record, partitioned by the Kafka
    timestamp, which the Flink job sets to the event time of what it emits."""
    return BronzeProjection(
        parse=KAFKA_METADATA_COLUMNS,
        project=("topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "key", "value",
                 "CAST(NULL AS TIMESTAMP) AS parsed_event_time"),
    )


def finishing_columns(with_contract: bool) -> Tuple[str, ...]:
    """Final columns shared by every topic: event time, validity, ingestion time and partitions."""
    columns = [
        "*",
        "coalesce(parsed_event_time, kafka_timestamp) AS event_time",
        "current_timestamp() AS ingested_at",
    ]
    if with_contract:
        columns.append(f"({contract_check_sql()}) AS is_valid")
    return tuple(columns)


def contract_check_sql() -> str:
    """The contract's checks that a Spark SQL expression can make cheaply on every streamed record
    (the full check, identifier patterns included, is lakestream_spark.contract.validate_login_record)."""
    sources = ", ".join(f"'{source}'" for source in SOURCES)
    versions = ", ".join(str(version) for version in sorted(SUPPORTED_SCHEMA_VERSIONS))
    return (
        "coalesce("
        "event_id IS NOT NULL AND user_id IS NOT NULL AND parsed_event_time IS NOT NULL"
        f" AND length(user_id) BETWEEN 1 AND {USER_ID_MAX_LENGTH}"
        f" AND source IN ({sources})"
        f" AND schema_version IN ({versions})"
        ", false)"
    )
