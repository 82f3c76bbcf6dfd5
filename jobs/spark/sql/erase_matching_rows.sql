-- Rows of one lake dataset (erasure_target) that belong to a data subject being erased.
-- erasure_subjects(user_id, user_id_json) holds the subjects; the ids never appear in SQL text, so
-- nothing personal reaches query history or logs. The match placeholder is the dataset's predicate over t and s
-- (lakestream_spark.erasure.TARGETS), code not input. Spark SQL and DuckDB both run this text.
SELECT t.*
FROM erasure_target t
WHERE EXISTS (SELECT 1 FROM erasure_subjects s WHERE :match)
