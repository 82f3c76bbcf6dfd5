"""Erase data subjects from the lake's Parquet datasets (bronze, silver and gold), one request at a time.

Run by the erasure workflow (lib/constructs/gdpr/erasure-workflow.ts) on the platform's EMR
Serverless application, with `--request-id`; the people to erase are read from the request document
`<bronze>/_erasure/<request-id>/request.json`, never from arguments, so no id reaches EMR's job-run
history or the logs.

For every dataset of lakestream_spark.erasure.TARGETS:
1. find the Parquet objects holding at least one matching row (erase_matching_rows.sql, with the
   object of each row from input_file_name());
2. for each such object: read it alone, keep the other rows (erase_kept_rows.sql), write them as one
   Parquet file to a staging folder, and copy that file over the original key in one PUT (S3 readers
   see the old or the new object, never a missing or partial one); an object left without rows is
   deleted;
3. write a report (objects, rows before, rows removed) to `<bronze>/_erasure/<request-id>/spark-report.json`.

Why Spark and not a Lambda function: the objects are as large as a day of landed logins or a
micro-batch of a busy topic; Spark reads them with the same Parquet writer settings and schemas
that produced them, from the same application, role and network, with no size ceiling (a Lambda
function stops at 10 GB of memory and 15 minutes). The job is idempotent: a re-run finds no
matching rows and changes nothing. Old versions of the rewritten objects are deleted afterwards by
the workflow (it knows the version ids; Hadoop's file system API does not).
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence

from lakestream_spark.cli import prefix_uri
from lakestream_spark.erasure import (
    KEPT_SQL,
    MATCHING_SQL,
    TARGETS,
    ErasureTarget,
    FileOutcome,
    dataset_uri,
    parse_request,
    render_erasure_sql,
    report_document,
    request_id,
    subject_rows,
    work_uri,
)
from lakestream_spark.schemas import KAFKA_LOGIN_COLUMNS, KAFKA_RECORD_COLUMNS, LANDING_COLUMNS, QUARANTINE_COLUMNS, ddl

MISSING_PATH_MESSAGE = "Path does not exist"
# Reading with the writers' schemas (not inference) reads an existing but empty folder as empty.
BRONZE_SCHEMAS = {
    "kafka_logins_raw": ddl(KAFKA_LOGIN_COLUMNS),
    "kafka_logins_counts": ddl(KAFKA_RECORD_COLUMNS),
    "landing_logins": ddl(LANDING_COLUMNS),
    "quarantine_landing_logins": ddl(QUARANTINE_COLUMNS),
}
FILE_COLUMN = "_erasure_file"


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bronze-uri", required=True, type=prefix_uri)
    parser.add_argument("--silver-uri", required=True, type=prefix_uri)
    parser.add_argument("--gold-uri", required=True, type=prefix_uri)
    parser.add_argument("--request-id", required=True, type=request_id)
    return parser.parse_args(argv)


def _hadoop(spark, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return jvm, path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _read_text(spark, uri: str) -> str:
    jvm, path, fs = _hadoop(spark, uri)
    stream = fs.open(path)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def _write_text(spark, uri: str, text: str) -> None:
    _, path, fs = _hadoop(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def _affected_files(spark, target: ErasureTarget, uri: str) -> List[str]:
    from pyspark.sql import functions as F
    from pyspark.sql.utils import AnalysisException

    try:
        reader = spark.read
        if target.name in BRONZE_SCHEMAS:
            reader = reader.schema(BRONZE_SCHEMAS[target.name])
        frame = reader.parquet(uri)
    except AnalysisException as error:
        if MISSING_PATH_MESSAGE in str(error):
            return []
        raise
    # input_file_name() must sit directly on the scan: after the EXISTS join it would be empty.
    frame.select(F.input_file_name().alias(FILE_COLUMN), "*").createOrReplaceTempView("erasure_target")
    matching = spark.sql(render_erasure_sql(MATCHING_SQL, target))
    return sorted(row[0] for row in matching.select(FILE_COLUMN).distinct().collect())


def _erase_file(spark, target: ErasureTarget, file_uri: str, staging_uri: str) -> Optional[FileOutcome]:
    jvm, original, fs = _hadoop(spark, file_uri)
    frame = spark.read.parquet(file_uri)
    frame.createOrReplaceTempView("erasure_target")
    rows_before = frame.count()
    kept = spark.sql(render_erasure_sql(KEPT_SQL, target)).cache()
    rows_kept = kept.count()
    if rows_kept == rows_before:
        kept.unpersist()
        return None
    if rows_kept == 0:
        fs.delete(original, False)
    else:
        kept.coalesce(1).write.mode("overwrite").option("compression", "snappy").parquet(staging_uri)
        _, staging, staging_fs = _hadoop(spark, staging_uri)
        parts = [s.getPath() for s in staging_fs.listStatus(staging) if s.getPath().getName().endswith(".parquet")]
        if len(parts) != 1:
            raise RuntimeError(f"expected one staged Parquet file for {target.name}, found {len(parts)}")
        # One PUT of the new object over the old key: never a moment without the other people's rows.
        jvm.org.apache.hadoop.fs.FileUtil.copy(staging_fs, parts[0], fs, original, True, True, spark.sparkContext._jsc.hadoopConfiguration())
        staging_fs.delete(staging, True)
    kept.unpersist()
    return FileOutcome(uri=file_uri, rows_before=rows_before, rows_removed=rows_before - rows_kept)


def main(argv: Optional[Sequence[str]] = None) -> None:
    from pyspark.sql import SparkSession

    args = parse_args(argv)
    spark = (
        SparkSession.builder.appName("lakestream-erase-subjects")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    work = work_uri(args.bronze_uri, args.request_id)
    user_ids = parse_request(_read_text(spark, f"{work}request.json"), args.request_id)
    spark.createDataFrame(subject_rows(user_ids), "user_id STRING, user_id_json STRING").createOrReplaceTempView("erasure_subjects")

    tiers = {"bronze": args.bronze_uri, "silver": args.silver_uri, "gold": args.gold_uri}
    outcomes: Dict[str, List[FileOutcome]] = {}
    for target in TARGETS:
        files = _affected_files(spark, target, dataset_uri(target, tiers))
        results = [_erase_file(spark, target, f, f"{work}staging/{target.name}/{i}/") for i, f in enumerate(files)]
        outcomes[target.name] = [r for r in results if r is not None]
        # Counts only: the log never names a person.
        print(json.dumps({"dataset": target.name, "files": len(outcomes[target.name]), "rowsRemoved": sum(r.rows_removed for r in outcomes[target.name])}))

    finished = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _write_text(spark, f"{work}spark-report.json", json.dumps(report_document(args.request_id, outcomes, finished), indent=2))


if __name__ == "__main__":
    main()
