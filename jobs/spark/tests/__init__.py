"""Unit tests of the Spark jobs' pure logic; they run without Spark.

On EMR Serverless the job folder is shipped as one zip on `--py-files`, so the entry points import
`lakestream_spark` as a top-level package. Putting the job folder on sys.path here reproduces that.
"""
import os
import sys

SPARK_JOBS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SPARK_JOBS_DIR not in sys.path:
    sys.path.insert(0, SPARK_JOBS_DIR)
