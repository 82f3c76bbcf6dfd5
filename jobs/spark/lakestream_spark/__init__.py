"""Pure logic shared by the Lakestream Spark jobs.

Nothing in this package imports pyspark: the jobs import pyspark inside their `main()` only, so that
these modules run (and are tested) with the standard library alone. EMR Serverless 7 runs Python 3.9,
so the code stays within 3.9 syntax.
"""
