"""Batch job: bronze logins -> gold daily reports, by running the portable SQL in sql/.

Registers the bronze datasets as bronze_logins_kafka and bronze_logins_landing, builds the
bronze_logins view (sql/bronze_logins.sql) and writes each report (lakestream_spark.report_sql.REPORTS)
to <gold>/reports/<report>/report_date=YYYY-MM-DD/ with dynamic partition overwrite, so re-running a
date replaces that date's reports. The same SQL runs on DuckDB in test/jobs/daily-report-sql.test.ts.
"""
from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Dict, Optional, Sequence

from lakestream_spark.cli import iso_date, positive_int, prefix_uri, yesterday_utc
from lakestream_spark.layout import gold_report_uri, kafka_dataset_uri, landing_dataset_uri
from lakestream_spark.report_sql import BRONZE_VIEW, REPORTS, load_sql, render_sql, report_parameters

# Bronze relations the bronze_logins view reads, and the columns each must offer when its folder does
# not exist yet (a new environment before its first event).
KAFKA_RELATION = "bronze_logins_kafka"
LANDING_RELATION = "bronze_logins_landing"
EMPTY_RELATION_DDL: Dict[str, str] = {
    KAFKA_RELATION: "event_id STRING, user_id STRING, event_time TIMESTAMP, source STRING, is_valid BOOLEAN, dt STRING, hr STRING",
    LANDING_RELATION: "event_id STRING, user_id STRING, event_time TIMESTAMP, source STRING, landed_on STRING, dt STRING, hr STRING",
}


def parse_args(argv: Optional[Sequence[str]] = None, now: Optional[datetime] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="daily_report", description=__doc__.splitlines()[0])
    parser.add_argument("--bronze-uri", required=True, type=prefix_uri, help="s3://<bronze bucket>/ root")
    parser.add_argument("--gold-uri", required=True, type=prefix_uri, help="s3://<gold bucket>/ root")
    parser.add_argument("--report-date", type=iso_date, default=None, help="UTC day to report on (default: yesterday)")
    parser.add_argument("--top-n", type=positive_int, default=10, help="users kept in top_users (ties may add more)")
    parser.add_argument("--trend-days", type=positive_int, default=7, help="moving-average window of login_trends")
    parser.add_argument("--logins-topic", default="logins.raw", help="topic whose bronze dataset holds streamed logins")
    parser.add_argument("--landing-dataset", default="logins", help="bronze dataset written by landing_to_bronze")
    args = parser.parse_args(argv)
    if args.report_date is None:
        args.report_date = yesterday_utc(now or datetime.now(timezone.utc))
    return args


def bronze_sources(args: argparse.Namespace) -> Dict[str, str]:
    """Relation name -> Parquet folder for the bronze_logins view."""
    return {
        KAFKA_RELATION: kafka_dataset_uri(args.bronze_uri, args.logins_topic),
        LANDING_RELATION: landing_dataset_uri(args.bronze_uri, args.landing_dataset),
    }


def main(argv: Optional[Sequence[str]] = None) -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql.utils import AnalysisException

    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName("lakestream-daily-report")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        # dt/hr stay strings, exactly as the DuckDB test reads them.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    parameters = report_parameters(args.report_date, args.top_n, args.trend_days)

    for relation, uri in bronze_sources(args).items():
        try:
            frame = spark.read.parquet(uri)
        except AnalysisException as error:
            if "Path does not exist" not in str(error):
                raise
            frame = spark.createDataFrame([], EMPTY_RELATION_DDL[relation])
        frame.createOrReplaceTempView(relation)

    spark.sql(render_sql(load_sql(BRONZE_VIEW), parameters)).createOrReplaceTempView(BRONZE_VIEW.name)
    for report in REPORTS:
        (
            spark.sql(render_sql(load_sql(report), parameters))
            .write.mode("overwrite")
            .partitionBy("report_date")
            .parquet(gold_report_uri(args.gold_uri, report.name))
        )
        print(f"report {report.name} written for {args.report_date}")


if __name__ == "__main__":
    main()
