"""Batch job: bronze logins -> gold daily reports, by running the portable SQL in sql/.

Registers the bronze datasets as bronze_logins_kafka and bronze_logins_landing (read with the
explicit schemas of lakestream_spark.schemas, so a folder without data files reads as empty), builds
the bronze_logins view (sql/bronze_logins.sql) and writes each report (lakestream_spark.report_sql.REPORTS)
to <gold>/reports/<report>/report_date=YYYY-MM-DD/. Per-user reports also get user_ref, the keyed
pseudonym of user_id (lakestream_spark.user_ref) that pseudonymous dashboards show.

Late data: one run reports on --report-date and re-reports the --late-days days before it, so events
of day D that reach bronze up to --late-days days after D are counted in D's report (bronze is
partitioned by event time; see README "Late data"). Each day's folder is replaced as a whole (static
overwrite of that folder), so re-running a day replaces it, including rows a previous run wrote and
this one no longer produces. The same SQL runs on DuckDB in test/jobs/daily-report-sql.test.ts.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import List, Optional, Sequence

from lakestream_spark import user_ref
from lakestream_spark.cli import bounded_int, iso_date, prefix_uri, yesterday_utc
from lakestream_spark.layout import gold_report_day_uri, kafka_dataset_uri, landing_dataset_uri
from lakestream_spark.report_sql import (
    BRONZE_VIEW,
    LATE_DAYS_RANGE,
    REPORTS,
    TOP_N_RANGE,
    TREND_DAYS_RANGE,
    Report,
    load_sql,
    render_sql,
    report_dates,
    report_parameters,
)
from lakestream_spark.schemas import KAFKA_LOGIN_COLUMNS, KAFKA_PARTITIONS, LANDING_COLUMNS, LANDING_PARTITIONS, ddl

# Bronze relations the bronze_logins view reads.
KAFKA_RELATION = "bronze_logins_kafka"
LANDING_RELATION = "bronze_logins_landing"
DEFAULT_LATE_DAYS = 2
# The message of Spark's AnalysisException for a folder that does not exist. Anything else, such as
# S3's 403 Access Denied for a prefix the job role may not read, must fail the job.
MISSING_PATH_MESSAGE = "Path does not exist"


@dataclass(frozen=True)
class BronzeRead:
    """One bronze dataset as the job reads it: relation name, folder and explicit schema (Spark DDL)."""

    relation: str
    uri: str
    schema_ddl: str


@dataclass(frozen=True)
class ReportWrite:
    """One report of one day: the SQL, and the folder that day's rows replace."""

    report_date: date
    report: Report
    uri: str


def parse_args(argv: Optional[Sequence[str]] = None, now: Optional[datetime] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="daily_report", description=__doc__.splitlines()[0])
    parser.add_argument("--bronze-uri", required=True, type=prefix_uri, help="s3://<bronze bucket>/ root")
    parser.add_argument("--gold-uri", required=True, type=prefix_uri, help="s3://<gold bucket>/ root")
    parser.add_argument("--report-date", type=iso_date, default=None, help="UTC day to report on (default: yesterday)")
    parser.add_argument(
        "--late-days", type=bounded_int(*LATE_DAYS_RANGE), default=DEFAULT_LATE_DAYS, help="days before --report-date reported again, for late events"
    )
    parser.add_argument("--top-n", type=bounded_int(*TOP_N_RANGE), default=10, help="users kept in top_users (ties may add more)")
    parser.add_argument("--trend-days", type=bounded_int(*TREND_DAYS_RANGE), default=7, help="moving-average window of login_trends")
    parser.add_argument("--logins-topic", default="logins.raw", help="topic whose bronze dataset holds streamed logins")
    parser.add_argument("--landing-dataset", default="logins", help="bronze dataset written by landing_to_bronze")
    args = parser.parse_args(argv)
    if args.report_date is None:
        args.report_date = yesterday_utc(now or datetime.now(timezone.utc))
    return args


def bronze_reads(args: argparse.Namespace) -> List[BronzeRead]:
    """The bronze datasets behind the bronze_logins view, each with the schema its writer uses."""
    return [
        BronzeRead(KAFKA_RELATION, kafka_dataset_uri(args.bronze_uri, args.logins_topic), ddl(KAFKA_LOGIN_COLUMNS, KAFKA_PARTITIONS)),
        BronzeRead(LANDING_RELATION, landing_dataset_uri(args.bronze_uri, args.landing_dataset), ddl(LANDING_COLUMNS, LANDING_PARTITIONS)),
    ]


def report_writes(args: argparse.Namespace) -> List[ReportWrite]:
    """Every (day, report) this run writes, oldest day first."""
    return [
        ReportWrite(day, report, gold_report_day_uri(args.gold_uri, report.name, day))
        for day in report_dates(args.report_date, args.late_days)
        for report in REPORTS
    ]


def report_columns(report: Report) -> List[str]:
    """Columns added to a report's SQL result: the keyed pseudonym of each per-user row."""
    return ["*", f"{user_ref.USER_REF_FUNCTION}(user_id) AS user_ref"] if report.per_user else ["*"]


def report_frame(frame, report: Report):
    return frame.selectExpr(*report_columns(report))


def is_missing_path(error: Exception) -> bool:
    """True only for "the folder does not exist yet" (a new environment), never for denied access."""
    return MISSING_PATH_MESSAGE in str(error)


def main(argv: Optional[Sequence[str]] = None) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql.utils import AnalysisException

    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName("lakestream-daily-report")
        .config("spark.sql.session.timeZone", "UTC")
        # dt/hr stay strings, exactly as the DuckDB test reads them.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )

    # Fails before any work when the pseudonym key was not resolved (lakestream_spark.user_ref).
    user_ref.register(spark)

    for read in bronze_reads(args):
        try:
            frame = spark.read.schema(read.schema_ddl).parquet(read.uri)
        except AnalysisException as error:
            if not is_missing_path(error):
                raise
            frame = spark.createDataFrame([], read.schema_ddl)
        frame.createOrReplaceTempView(read.relation)

    for write in report_writes(args):
        parameters = report_parameters(write.report_date, args.top_n, args.trend_days)
        spark.sql(render_sql(load_sql(BRONZE_VIEW), parameters)).createOrReplaceTempView(BRONZE_VIEW.name)
        (
            report_frame(spark.sql(render_sql(load_sql(write.report), parameters)), write.report)
            # The day is the folder name (report_date=...), as Athena's partition projection reads it.
            .drop("report_date")
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "static")
            .parquet(write.uri)
        )
        print(f"report {write.report.name} written for {write.report_date}")


if __name__ == "__main__":
    main()
