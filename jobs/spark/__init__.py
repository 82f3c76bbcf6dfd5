"""PySpark jobs run on EMR Serverless. Entry points sit here; shared logic is in lakestream_spark/."""
