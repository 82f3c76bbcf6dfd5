-- PORTABLE SQL: this file runs unchanged on Spark SQL 3.5 (EMR Serverless 7) and on DuckDB (the
-- report test, test/jobs/daily-report-sql.test.ts). Keep to the subset both engines share: CTEs,
-- GROUP BY, CASE, COALESCE, NULLIF, CAST(x AS DOUBLE|DATE), ROUND, COUNT(DISTINCT), window functions
-- with OVER (PARTITION BY .. ORDER BY ..), DATE 'yyyy-mm-dd' literals. Not allowed: `::` casts, QUALIFY,
-- date +/- INTERVAL arithmetic (the engines return different types; lakestream_spark.report_sql
-- computes derived dates), engine-specific functions (date_diff/datediff, json_*, sequence, range).
-- Parameters (:name) are substituted by lakestream_spark.report_sql.render_sql on both engines.
--
-- Gold: logins per user on :report_date (one row per user who logged in that day).
SELECT
  :report_date AS report_date,
  user_id,
  COUNT(DISTINCT event_id) AS logins,
  COUNT(DISTINCT source) AS sources,
  MIN(event_time) AS first_login_at,
  MAX(event_time) AS last_login_at
FROM bronze_logins
WHERE event_date = :report_date
GROUP BY user_id
