"""Streaming job: Kafka topics (raw logins, login counts) -> Parquet in bronze and silver, partitioned by dt/hr.

Raw login events land in bronze. The record topics (--record-topic, default logins.counts) carry
aggregates computed by Flink, not raw events: they land in silver, the tier dashboards may read,
so that Grafana's role needs no bronze access at all (issue 11). Each record row also carries
user_ref, the keyed pseudonym of its user_id (lakestream_spark.user_ref), which pseudonymous
dashboards show instead of the id.

Runs on EMR Serverless in STREAMING mode; the streaming-job supervisor starts it and restarts it
when it fails. One Structured Streaming query per topic, each with its own S3 checkpoint, so a
restart resumes exactly where the previous run committed.

Idempotent micro-batches instead of the file sink: the file sink lists its committed files in
`_spark_metadata`, which Spark readers honour but Athena (partition projection lists S3 folders)
does not, so the files of a failed micro-batch showed up in Athena twice once the batch was re-run.
Here every micro-batch (foreachBatch) writes into its own folder `dt=/hr=/batch_id=<id>/` with
dynamic partition overwrite. Spark logs a batch's offset range before running it and re-runs a
failed batch with the same id and the same offsets after a restart, so the retry produces the same
(dt, hr, batch_id) folders and replaces whatever the failed attempt left there. Spark writes into
`.spark-staging-*` first, a folder Athena and Spark skip (leading dot).

The logins topic is checked against the login contract by a Python UDF (lakestream_spark.kafka_source
.parse_login_value, the shared validator) over each record's raw bytes, so streaming bronze accepts
exactly what the landing job, the ingestion glue and the Flink job accept.

Needs on the classpath: spark-sql-kafka-0-10 (with kafka-clients, commons-pool2) and aws-msk-iam-auth,
e.g. `--jars s3://<artifacts>/jars/...` from the artifact mirror.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from lakestream_spark import user_ref
from lakestream_spark.cli import bounded_int, prefix_uri, positive_int
from lakestream_spark.kafka_source import (
    DEFAULT_MAX_FUTURE_SKEW_SECONDS,
    MAX_FUTURE_SKEW_SECONDS_RANGE,
    BronzeProjection,
    UdfRegistration,
    finishing_columns,
    kafka_source_options,
    login_projection,
    login_udf_registration,
    record_projection,
)
from lakestream_spark.layout import (
    SPARK_PARTITION_EXPRESSIONS,
    checkpoint_uri,
    dataset_name,
    kafka_dataset_uri,
)
from lakestream_spark.schemas import KAFKA_LOGIN_COLUMNS, KAFKA_PARTITIONS, KAFKA_RECORD_COLUMNS, Column, cast_expressions

STARTING_OFFSETS = ("earliest", "latest")
# Records per micro-batch and query (Spark splits it across the topic's partitions). Without a bound,
# the first batch of a new checkpoint reads everything the topic retains (startingOffsets=earliest).
DEFAULT_MAX_OFFSETS_PER_TRIGGER = 200_000
BATCH_ID_COLUMN = KAFKA_PARTITIONS[-1][0]


@dataclass(frozen=True)
class MicroBatchWrite:
    """How each micro-batch is written (see the module doc): exactly what DataFrameWriter receives."""

    mode: str
    partition_by: Tuple[str, ...]
    options: Tuple[Tuple[str, str], ...]


MICRO_BATCH_WRITE = MicroBatchWrite(
    mode="overwrite",
    partition_by=tuple(name for name, _ in KAFKA_PARTITIONS),
    options=(("partitionOverwriteMode", "dynamic"),),
)


@dataclass(frozen=True)
class StreamPlan:
    """Everything one streaming query needs, decided before Spark starts."""

    topic: str
    query_name: str
    output_uri: str
    checkpoint_uri: str
    projection: BronzeProjection
    has_login_contract: bool
    # Data columns written, in order and type (lakestream_spark.schemas); partitions come after.
    columns: Tuple[Column, ...]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="streaming_bronze", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True, help="MSK IAM bootstrap brokers (host:9098,...)")
    parser.add_argument("--bronze-uri", required=True, type=prefix_uri, help="s3://<bronze bucket>/ root")
    parser.add_argument(
        "--silver-uri",
        required=True,
        type=prefix_uri,
        help="s3://<silver bucket>/ root: where the record topics (aggregates) land",
    )
    parser.add_argument(
        "--checkpoint-uri",
        type=prefix_uri,
        help="root of the streaming checkpoints (default: <bronze-uri>_checkpoints/)",
    )
    parser.add_argument("--logins-topic", default="logins.raw", help="topic of raw login events (parsed against the contract)")
    parser.add_argument(
        "--record-topic",
        action="append",
        default=None,
        help="further topic of aggregates landed as records in silver (repeatable; default: logins.counts)",
    )
    parser.add_argument(
        "--group-id-prefix",
        default="lakestream-spark-bronze",
        help="prefix of the consumer group ids Spark generates (the job role may join only these groups)",
    )
    parser.add_argument("--trigger-seconds", type=positive_int, default=60, help="micro-batch interval")
    parser.add_argument("--starting-offsets", choices=STARTING_OFFSETS, default="earliest", help="where a query with no checkpoint starts")
    parser.add_argument(
        "--max-offsets-per-trigger",
        type=positive_int,
        default=DEFAULT_MAX_OFFSETS_PER_TRIGGER,
        help=f"bound on records per micro-batch per topic (default: {DEFAULT_MAX_OFFSETS_PER_TRIGGER})",
    )
    parser.add_argument(
        "--max-future-skew-seconds",
        type=bounded_int(*MAX_FUTURE_SKEW_SECONDS_RANGE),
        default=DEFAULT_MAX_FUTURE_SKEW_SECONDS,
        help="a login whose event_time is further ahead of its Kafka timestamp is invalid "
        f"(default: {DEFAULT_MAX_FUTURE_SKEW_SECONDS}, the Flink job's default)",
    )
    parser.add_argument(
        "--fail-on-data-loss",
        action="store_true",
        help="stop when offsets expired before they were read (default: continue, because a restart "
        "after an outage longer than the topic retention would otherwise fail forever)",
    )
    args = parser.parse_args(argv)
    if args.record_topic is None:
        args.record_topic = ["logins.counts"]
    if args.checkpoint_uri is None:
        args.checkpoint_uri = f"{args.bronze_uri}_checkpoints/"
    topics = [args.logins_topic, *args.record_topic]
    if len(set(topics)) != len(topics):
        parser.error(f"each topic may be listed once, got {', '.join(topics)}")
    return args


def plan_streams(args: argparse.Namespace) -> List[StreamPlan]:
    """One plan per topic: the logins topic parsed against the contract into bronze, the others as records into silver."""
    topics: List[Tuple[str, bool]] = [(args.logins_topic, True)] + [(topic, False) for topic in args.record_topic]
    return [
        StreamPlan(
            topic=topic,
            query_name=f"{'bronze' if is_logins else 'silver'}_{dataset_name(topic)}",
            output_uri=kafka_dataset_uri(args.bronze_uri if is_logins else args.silver_uri, topic),
            checkpoint_uri=checkpoint_uri(args.checkpoint_uri, topic),
            projection=login_projection() if is_logins else record_projection(),
            has_login_contract=is_logins,
            columns=KAFKA_LOGIN_COLUMNS if is_logins else KAFKA_RECORD_COLUMNS,
        )
        for topic, is_logins in topics
    ]


def source_options(args: argparse.Namespace, plan: StreamPlan) -> Dict[str, str]:
    """Exactly the options the query's Kafka source receives."""
    return kafka_source_options(
        args.bootstrap_servers,
        plan.topic,
        args.starting_offsets,
        args.max_offsets_per_trigger,
        args.fail_on_data_loss,
        args.group_id_prefix,
    )


def login_udf(args: argparse.Namespace) -> UdfRegistration:
    """The contract UDF main() registers before the queries start (login_projection calls it by name)."""
    return login_udf_registration(args.max_future_skew_seconds)


def output_expressions(plan: StreamPlan) -> Tuple[str, ...]:
    """Final selectExpr of a query: the shared schema's columns, then the dt/hr partition values."""
    partitions = tuple(f"{expression} AS {name}" for name, expression in SPARK_PARTITION_EXPRESSIONS.items())
    return (*cast_expressions(plan.columns), *partitions)


def batch_writer(plan: StreamPlan):
    """foreachBatch body: this batch's rows into dt=/hr=/batch_id=<batch_id>/, replacing a failed attempt's files."""

    def write(frame, batch_id: int) -> None:
        writer = frame.selectExpr("*", f"CAST({int(batch_id)} AS BIGINT) AS {BATCH_ID_COLUMN}").write.mode(MICRO_BATCH_WRITE.mode)
        for key, value in MICRO_BATCH_WRITE.options:
            writer = writer.option(key, value)
        writer.partitionBy(*MICRO_BATCH_WRITE.partition_by).parquet(plan.output_uri)

    return write


def main(argv: Optional[Sequence[str]] = None) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import udf

    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName("lakestream-streaming-bronze")
        # Partition values (dt, hr) are UTC whatever the cluster's zone.
        .config("spark.sql.session.timeZone", "UTC").getOrCreate()
    )
    contract = login_udf(args)
    spark.udf.register(contract.name, udf(contract.function, contract.return_type, useArrow=contract.use_arrow))
    # Before any query starts: a job without the key fails here, naming the missing property.
    user_ref.register(spark)
    for plan in plan_streams(args):
        options = source_options(args, plan)
        rows = (
            spark.readStream.format("kafka")
            .options(**options)
            .load()
            .selectExpr(*plan.projection.parse)
            .selectExpr(*plan.projection.project)
            .selectExpr(*finishing_columns(plan.has_login_contract))
            .selectExpr(*output_expressions(plan))
        )
        (
            rows.writeStream.foreachBatch(batch_writer(plan))
            .queryName(plan.query_name)
            .option("checkpointLocation", plan.checkpoint_uri)
            .trigger(processingTime=f"{args.trigger_seconds} seconds")
            .start()
        )
    # Any query failing fails the job run, so EMR's retry policy (and then the supervisor) restarts it.
    spark.streams.awaitAnyTermination()


if __name__ == "__main__":
    main()
