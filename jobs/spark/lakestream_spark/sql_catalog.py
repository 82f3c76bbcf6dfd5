"""Every Spark SQL text the jobs hand to Spark, rendered at the bounds of the job arguments, as JSON.

test/jobs/spark-sql-grammar.test.ts parses each text with dt-sql-parser's Spark SQL grammar:
selectExpr lists become `SELECT <expressions> FROM <relation>`, explicit schemas become
`CREATE TABLE ... (<ddl>) USING parquet`. The bronze schemas are printed too, so the test can compare
them with the Glue tables of lib/constructs/lake/lake-tables.ts.

    python3 -m lakestream_spark.sql_catalog
"""
from __future__ import annotations

import json
import sys
from datetime import date
from typing import Dict, List, Sequence

from lakestream_spark.erasure import KEPT_SQL, MATCHING_SQL, TARGETS, render_erasure_sql
from lakestream_spark.kafka_source import LOGIN_PARSE_TYPE, finishing_columns
from lakestream_spark.report_sql import TOP_N_RANGE, TREND_DAYS_RANGE, render_all, report_parameters
from lakestream_spark.schemas import (
    KAFKA_LOGIN_COLUMNS,
    KAFKA_PARTITIONS,
    KAFKA_RECORD_COLUMNS,
    LANDING_COLUMNS,
    LANDING_PARTITIONS,
    QUARANTINE_COLUMNS,
    QUARANTINE_PARTITIONS,
)

# Leap day: the derived windows cross a month and a year boundary at the largest trend window.
SAMPLE_REPORT_DATE = date(2024, 2, 29)
LARGEST_BATCH_ID = 2**63 - 1


def _select(expressions: Sequence[str], relation: str) -> str:
    return f"SELECT {', '.join(expressions)} FROM {relation}"


def sql_texts() -> Dict[str, str]:
    import daily_report
    import streaming_bronze

    texts: Dict[str, str] = {}
    for label, top_n, trend_days in (("min", TOP_N_RANGE[0], TREND_DAYS_RANGE[0]), ("max", TOP_N_RANGE[1], TREND_DAYS_RANGE[1])):
        for name, sql in render_all(report_parameters(SAMPLE_REPORT_DATE, top_n, trend_days)).items():
            texts[f"report {name} ({label})"] = sql

    args = streaming_bronze.parse_args(["--bootstrap-servers", "b-1:9098", "--bronze-uri", "s3://lake-bronze", "--silver-uri", "s3://lake-silver"])
    for plan in streaming_bronze.plan_streams(args):
        texts[f"{plan.query_name} parse"] = _select(plan.projection.parse, "kafka_source")
        texts[f"{plan.query_name} project"] = _select(plan.projection.project, "parsed")
        texts[f"{plan.query_name} finish"] = _select(finishing_columns(plan.has_login_contract), "projected")
        texts[f"{plan.query_name} output"] = _select(streaming_bronze.output_expressions(plan), "finished")
        texts[f"{plan.query_name} batch"] = _select(("*", f"CAST({LARGEST_BATCH_ID} AS BIGINT) AS {streaming_bronze.BATCH_ID_COLUMN}"), "micro_batch")
    texts["login contract UDF return type"] = f"SELECT CAST(NULL AS {LOGIN_PARSE_TYPE}) AS login FROM kafka_source"

    for read in daily_report.bronze_reads(daily_report.parse_args(["--bronze-uri", "s3://b-bucket", "--gold-uri", "s3://g-bucket"])):
        texts[f"schema {read.relation}"] = f"CREATE TABLE {read.relation} ({read.schema_ddl}) USING parquet"
    texts["landing valid rows"] = "SELECT * FROM processed WHERE is_valid"
    texts["landing rejected rows"] = "SELECT * FROM processed WHERE NOT is_valid"
    for target in TARGETS:
        texts[f"erase {target.name} matching"] = render_erasure_sql(MATCHING_SQL, target)
        texts[f"erase {target.name} kept"] = render_erasure_sql(KEPT_SQL, target)
    return texts


def bronze_schemas() -> Dict[str, List[List[str]]]:
    """Glue table name -> [column, Spark type] of the data columns, then the Glue partition keys."""
    return {
        "kafka_logins_raw": [list(c) for c in (*KAFKA_LOGIN_COLUMNS, *KAFKA_PARTITIONS[:2])],
        "kafka_logins_counts": [list(c) for c in (*KAFKA_RECORD_COLUMNS, *KAFKA_PARTITIONS[:2])],
        "landing_logins": [list(c) for c in (*LANDING_COLUMNS, *LANDING_PARTITIONS)],
        "quarantine_landing_logins": [list(c) for c in (*QUARANTINE_COLUMNS, *QUARANTINE_PARTITIONS)],
    }


def main() -> int:
    json.dump({"sql": sql_texts(), "schemas": bronze_schemas()}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
