"""Batch job: login files dropped in the landing bucket -> bronze Parquet, bad rows -> quarantine.

Reads CSV (with a header) and JSON-lines files, gzip-compressed or plain, with any letter case in
their extension, that landed under --landing-uri on one UTC day (--landed-on, default yesterday).
Each file is decoded on its own (lakestream_spark.landing.rows_of_file): CSV columns are matched by
that file's header, gzip is recognised by content. Every row is validated against the login
contract with the shared validator (lakestream_spark.contract): a JSON line as the text it is (so
`"user_id": 42` is rejected, as the glue, Flink and streaming jobs reject it), a CSV row as the
glue's CSV reader maps it. Rows are written to:
  bronze      <bronze>/landing/<dataset>/landed_on=/dt=/hr=/        valid events, de-duplicated by event_id
  quarantine  <bronze>/quarantine/landing/<dataset>/landed_on=/     rejected rows with code, detail and raw record
Each output's landed_on=<day>/ folder is replaced whole (static overwrite), also when the day has no
files or no rejected rows, so re-running a day replaces that day's output and nothing stale remains.
Files are read whole by one task each (Spark's binaryFile source, at most 2 GiB per file).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, Tuple

from lakestream_spark.cli import prefix_uri, iso_date, yesterday_utc
from lakestream_spark.landing import (
    BRONZE_COLUMNS,
    DAY_PARTITION,
    LANDING_EXTENSIONS,
    PROCESSED_COLUMNS,
    QUARANTINE_COLUMNS,
    ProcessedRow,
    glob_filter,
    landed_window,
    rows_of_file,
)
from lakestream_spark.layout import day_folder_uri, landing_dataset_uri, quarantine_uri


@dataclass(frozen=True)
class DayOutput:
    """One output of a run: which rows, the day folder they replace, the columns and sub-partitions."""

    valid: bool
    uri: str
    columns: Tuple[str, ...]
    partition_by: Tuple[str, ...]
    mode: str = "overwrite"
    options: Tuple[Tuple[str, str], ...] = (("partitionOverwriteMode", "static"),)


def file_source_options(args: argparse.Namespace) -> List[Tuple[str, str]]:
    """Options of Spark's binaryFile reader: which files under --landing-uri belong to the run."""
    modified_after, modified_before = landed_window(args.landed_on)
    return [
        ("pathGlobFilter", glob_filter(*args.formats)),
        ("recursiveFileLookup", "true"),
        ("modifiedAfter", modified_after),
        ("modifiedBefore", modified_before),
    ]


def file_rows(now: datetime) -> Callable[[Mapping[str, Any]], Iterator[ProcessedRow]]:
    """flatMap body over the binaryFile rows (path, content as bytearray): the file's processed rows."""

    def rows(file: Mapping[str, Any]) -> Iterator[ProcessedRow]:
        return rows_of_file(str(file["path"]), bytes(file["content"]), now)

    return rows


def day_outputs(args: argparse.Namespace) -> List[DayOutput]:
    """Bronze and quarantine, each written into (and replacing) its landed_on=<day>/ folder."""
    return [
        DayOutput(
            valid=True,
            uri=day_folder_uri(landing_dataset_uri(args.bronze_uri, args.dataset), DAY_PARTITION, args.landed_on),
            columns=(*BRONZE_COLUMNS, "ingested_at", "dt", "hr"),
            partition_by=("dt", "hr"),
        ),
        DayOutput(
            valid=False,
            uri=day_folder_uri(quarantine_uri(args.bronze_uri, args.dataset), DAY_PARTITION, args.landed_on),
            columns=(*QUARANTINE_COLUMNS, "ingested_at"),
            partition_by=(),
        ),
    ]


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
    spark = SparkSession.builder.appName("lakestream-landing-to-bronze").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    now = datetime.now(timezone.utc)

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

    reader = spark.read.format("binaryFile")
    for key, value in file_source_options(args):
        reader = reader.option(key, value)
    try:
        files = reader.load(args.landing_uri).select("path", "content")
        processed_rows = files.rdd.flatMap(file_rows(now))
    except Exception as error:  # AnalysisException when the landing prefix does not exist yet
        if "Path does not exist" not in str(error):
            raise
        print(f"No landing folder {args.landing_uri}; the day's outputs are emptied.")
        processed_rows = spark.sparkContext.emptyRDD()

    processed = spark.createDataFrame(processed_rows, processed_schema)
    processed.cache()
    for output in day_outputs(args):
        rows = processed.where("is_valid" if output.valid else "NOT is_valid")
        if output.valid:
            rows = rows.dropDuplicates(["event_id"])
        writer = rows.withColumn("ingested_at", F.current_timestamp()).select(*output.columns).write.mode(output.mode)
        for key, value in output.options:
            writer = writer.option(key, value)
        if output.partition_by:
            writer = writer.partitionBy(*output.partition_by)
        writer.parquet(output.uri)
    counts = {row["is_valid"]: row["count"] for row in processed.groupBy("is_valid").count().collect()}
    print(f"landed_on={args.landed_on} valid={counts.get(True, 0)} quarantined={counts.get(False, 0)}")


if __name__ == "__main__":
    main()
