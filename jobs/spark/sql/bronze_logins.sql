-- PORTABLE SQL: this file runs unchanged on Spark SQL 3.5 (EMR Serverless 7) and on DuckDB (the
-- report test, test/jobs/daily-report-sql.test.ts). Keep to the subset both engines share: CTEs,
-- GROUP BY, CASE, COALESCE, NULLIF, CAST(x AS DOUBLE|DATE), ROUND, COUNT(DISTINCT), window functions
-- with OVER (PARTITION BY .. ORDER BY ..), DATE 'yyyy-mm-dd' literals. Not allowed: `::` casts, QUALIFY,
-- date +/- INTERVAL arithmetic (the engines return different types; lakestream_spark.report_sql
-- computes derived dates), engine-specific functions (date_diff/datediff, json_*, sequence, range).
-- Parameters (:name) are substituted by lakestream_spark.report_sql.render_sql on both engines.
--
-- Defines the view bronze_logins(event_id, user_id, event_time, event_date, source) that every report
-- reads. Each engine first registers the two bronze datasets as relations, with the dt partition
-- column as a string:
--   bronze_logins_kafka    kafka/logins_raw/   (streaming job; rows that failed the contract have is_valid = false)
--   bronze_logins_landing  landing/logins/     (batch job; only valid rows, the rest is quarantined)
-- The same login may arrive through both paths (landing files are also replayed into Kafka), so the
-- reports count DISTINCT event_id. Filtering on dt lets both engines prune partitions.
SELECT event_id, user_id, event_time, CAST(dt AS DATE) AS event_date, source
FROM bronze_logins_kafka
WHERE is_valid
  AND CAST(dt AS DATE) BETWEEN :lookback_start AND :report_date
UNION ALL
SELECT event_id, user_id, event_time, CAST(dt AS DATE) AS event_date, source
FROM bronze_logins_landing
WHERE CAST(dt AS DATE) BETWEEN :lookback_start AND :report_date
