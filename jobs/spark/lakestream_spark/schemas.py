"""Column names and Spark SQL types of the bronze datasets: one definition for the writers (which
cast to it) and the readers (which read with it instead of inferring).

Reading with an explicit schema matters on the first run: a bronze folder that exists but holds no
Parquet file yet (the streaming job creates its output folder before the first micro-batch commits)
makes schema inference fail with "Unable to infer schema"; with a schema it reads as empty.
lib/constructs/lake/lake-tables.ts restates these columns for Glue; test/jobs/spark-sql-grammar.test.ts
checks that the two agree.
"""
from __future__ import annotations

from typing import Tuple

Column = Tuple[str, str]

# lakestream_spark.kafka_source: KAFKA_METADATA_COLUMNS, the contract UDF's fields, finishing_columns.
KAFKA_METADATA: Tuple[Column, ...] = (
    ("topic", "STRING"),
    ("kafka_partition", "INT"),
    ("kafka_offset", "BIGINT"),
    ("kafka_timestamp", "TIMESTAMP"),
    ("key", "STRING"),
    ("value", "STRING"),
)
KAFKA_LOGIN_COLUMNS: Tuple[Column, ...] = (
    *KAFKA_METADATA,
    ("event_id", "STRING"),
    ("user_id", "STRING"),
    ("source", "STRING"),
    ("schema_version", "INT"),
    ("event_time", "TIMESTAMP"),
    ("ingested_at", "TIMESTAMP"),
    ("is_valid", "BOOLEAN"),
    # Why a record failed the contract (lakestream_spark.kafka_source.parse_login_value); NULL when valid.
    ("reject_code", "STRING"),
    ("reject_detail", "STRING"),
)
KAFKA_RECORD_COLUMNS: Tuple[Column, ...] = (
    *KAFKA_METADATA,
    ("event_time", "TIMESTAMP"),
    ("ingested_at", "TIMESTAMP"),
    # Keyed pseudonym of the record's user_id (lakestream_spark.user_ref), what pseudonymous
    # dashboards show instead of the id. Files written before it existed read it as NULL.
    ("user_ref", "STRING"),
)
# Partition folders of a streamed dataset: dt=/hr=/batch_id=. batch_id is the micro-batch that wrote
# the files (see streaming_bronze.py); Glue does not declare it, Athena reads the folders below hr=.
KAFKA_PARTITIONS: Tuple[Column, ...] = (("dt", "STRING"), ("hr", "STRING"), ("batch_id", "BIGINT"))

# lakestream_spark.landing: BRONZE_COLUMNS + ingested_at, partitioned landed_on=/dt=/hr=.
LANDING_COLUMNS: Tuple[Column, ...] = (
    ("event_id", "STRING"),
    ("user_id", "STRING"),
    ("event_time", "TIMESTAMP"),
    ("source", "STRING"),
    ("schema_version", "INT"),
    ("source_file", "STRING"),
    ("ingested_at", "TIMESTAMP"),
)
LANDING_PARTITIONS: Tuple[Column, ...] = (("landed_on", "STRING"), ("dt", "STRING"), ("hr", "STRING"))
QUARANTINE_COLUMNS: Tuple[Column, ...] = (
    ("reject_code", "STRING"),
    ("reject_detail", "STRING"),
    ("raw_record", "STRING"),
    ("source_file", "STRING"),
    ("ingested_at", "TIMESTAMP"),
)
QUARANTINE_PARTITIONS: Tuple[Column, ...] = (("landed_on", "STRING"),)


def ddl(*column_groups: Tuple[Column, ...]) -> str:
    """Spark DDL (`name TYPE, ...`) of the columns, for DataFrameReader.schema and createDataFrame."""
    return ", ".join(f"{name} {spark_type}" for group in column_groups for name, spark_type in group)


def cast_expressions(columns: Tuple[Column, ...]) -> Tuple[str, ...]:
    """selectExpr list that makes a writer produce exactly `columns`, in order and type."""
    return tuple(f"CAST({name} AS {spark_type}) AS {name}" for name, spark_type in columns)
