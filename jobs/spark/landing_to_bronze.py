"""Batch job: login files dropped in the landing bucket -> bronze Parquet, bad rows -> quarantine.

Reads CSV (with a header) and JSON-lines files, gzip-compressed or plain, that landed under
--landing-uri on one UTC day (--landed-on, default yesterday), validates every row against the login
contract (lakestream_spark.contract) and writes:
  bronze      <bronze>/landing/<dataset>/landed_on=/dt=/hr=/        valid events, de-duplicated by event_id
  quarantine  <bronze>/quarantine/landing/<dataset>/landed_on=/     rejected rows with code, detail and raw record
Both are written with dynamic partition overwrite, so re-running a day replaces that day's output.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Optional, Sequence

from lakestream_spark.cli import prefix_uri, iso_date, yesterday_utc
from lakestream_spark.contract import CORRUPT_RECORD_COLUMN, LOGIN_FIELDS
from lakestream_spark.landing import (
    BRONZE_COLUMNS,
    BRONZE_PARTITIONS,
    LANDING_EXTENSIONS,
    PROCESSED_COLUMNS,
    QUARANTINE_COLUMNS,
    QUARANTINE_PARTITIONS,
    csv_column_mapping,
    glob_filter,
    landed_window,
    process_partition,
)
from lakestream_spark.layout import landing_dataset_uri, quarantine_uri


def parse_args(argv: Optional[Sequence[str]] = None, now: Optional[datetime] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="landing_to_bronze", description=__doc__.splitlines()[0])
    parser.add_argument("--landing-uri", required=True, type=prefix_uri, help="s3://<landing bucket>/<prefix>/ to read")
    parser.add_argument("--bronze-uri", required=True, type=prefix_uri, help="s3://<bronze bucket>/ root")
    parser.add_argument("--dataset", default="logins", help="bronze dataset name (default: logins)")
    parser.add_argument("--landed-on", type=iso_date, default=None, help="UTC day whose files to load (default: yesterday)")
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=sorted(LANDING_EXTENSIONS),
        default=None,
        help="reader(s) to run (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    if args.landed_on is None:
        args.landed_on = yesterday_utc(now or datetime.now(timezone.utc))
    if args.formats is None:
        args.formats = sorted(LANDING_EXTENSIONS)
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, IntegerType, StringType, StructField, StructType, TimestampType

    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName("lakestream-landing-to-bronze")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .getOrCreate()
    )
    modified_after, modified_before = landed_window(args.landed_on)
    now = datetime.now(timezone.utc)

    def reader(file_format: str):
        return (
            spark.read.format(file_format)
            .option("pathGlobFilter", glob_filter(file_format))
            .option("recursiveFileLookup", "true")
            .option("modifiedAfter", modified_after)
            .option("modifiedBefore", modified_before)
            .option("mode", "PERMISSIVE")
        )

    raw_frames = []
    for file_format in args.formats:
        try:
            if file_format == "csv":
                # Header names, not positions, decide which column is which.
                frame = reader("csv").option("header", "true").option("inferSchema", "false").load(args.landing_uri)
                projected = [
                    (F.col(f"`{column}`") if column is not None else F.lit(None)).cast("string").alias(field)
                    for field, column in csv_column_mapping(frame.columns)
                ]
                frame = frame.select(*projected, F.lit(None).cast("string").alias(CORRUPT_RECORD_COLUMN))
            else:
                schema = StructType([StructField(field, StringType()) for field in (*LOGIN_FIELDS, CORRUPT_RECORD_COLUMN)])
                frame = (
                    reader("json").schema(schema).option("columnNameOfCorruptRecord", CORRUPT_RECORD_COLUMN).load(args.landing_uri)
                )
        except Exception as error:  # Spark raises AnalysisException when no file matches.
            if "Path does not exist" in str(error) or "Unable to infer schema" in str(error):
                continue
            raise
        raw_frames.append(frame.withColumn("source_file", F.input_file_name()))

    if not raw_frames:
        print(f"No landing files under {args.landing_uri} modified on {args.landed_on}; nothing to do.")
        return

    raw = raw_frames[0]
    for frame in raw_frames[1:]:
        raw = raw.unionByName(frame)

    processed_schema = StructType(
        [
            StructField("is_valid", BooleanType(), False),
            StructField("event_id", StringType()),
            StructField("user_id", StringType()),
            StructField("event_time", TimestampType()),
            StructField("source", StringType()),
            StructField("schema_version", IntegerType()),
            StructField("dt", StringType()),
            StructField("hr", StringType()),
            StructField("reject_code", StringType()),
            StructField("reject_detail", StringType()),
            StructField("raw_record", StringType()),
            StructField("source_file", StringType()),
        ]
    )
    if tuple(field.name for field in processed_schema.fields) != PROCESSED_COLUMNS:
        raise RuntimeError("processed_schema no longer matches lakestream_spark.landing.PROCESSED_COLUMNS")
    processed = spark.createDataFrame(
        raw.rdd.map(lambda row: row.asDict()).mapPartitions(lambda rows: process_partition(rows, now)),
        processed_schema,
    ).withColumn("landed_on", F.lit(args.landed_on.isoformat()))
    processed.cache()

    valid = processed.where("is_valid").dropDuplicates(["event_id"]).withColumn("ingested_at", F.current_timestamp())
    (
        valid.select(*BRONZE_COLUMNS, "ingested_at", *BRONZE_PARTITIONS)
        .write.mode("overwrite")
        .partitionBy(*BRONZE_PARTITIONS)
        .parquet(landing_dataset_uri(args.bronze_uri, args.dataset))
    )
    rejected = processed.where("NOT is_valid").withColumn("ingested_at", F.current_timestamp())
    (
        rejected.select(*QUARANTINE_COLUMNS, "ingested_at", *QUARANTINE_PARTITIONS)
        .write.mode("overwrite")
        .partitionBy(*QUARANTINE_PARTITIONS)
        .parquet(quarantine_uri(args.bronze_uri, args.dataset))
    )
    counts = {row["is_valid"]: row["count"] for row in processed.groupBy("is_valid").count().collect()}
    print(f"landed_on={args.landed_on} valid={counts.get(True, 0)} quarantined={counts.get(False, 0)}")


if __name__ == "__main__":
    main()
