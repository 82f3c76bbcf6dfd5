-- PORTABLE SQL: this file runs unchanged on Spark SQL 3.5 (EMR Serverless 7) and on DuckDB (the
-- report test, test/jobs/daily-report-sql.test.ts). Keep to the subset both engines share: CTEs,
-- GROUP BY, CASE, COALESCE, NULLIF, CAST(x AS DOUBLE|DATE), ROUND, COUNT(DISTINCT), window functions
-- with OVER (PARTITION BY .. ORDER BY ..), DATE 'yyyy-mm-dd' literals. Not allowed: `::` casts, QUALIFY,
-- date +/- INTERVAL arithmetic (the engines return different types; lakestream_spark.report_sql
-- computes derived dates), engine-specific functions (date_diff/datediff, json_*, sequence, range).
-- Parameters (:name) are substituted by lakestream_spark.report_sql.render_sql on both engines.
--
-- Gold: daily active users on :report_date (always exactly one row, zeros on a day without logins).
SELECT
  :report_date AS report_date,
  COUNT(DISTINCT user_id) AS active_users,
  COUNT(DISTINCT event_id) AS logins,
  ROUND(CAST(COUNT(DISTINCT event_id) AS DOUBLE) / NULLIF(COUNT(DISTINCT user_id), 0), 3) AS logins_per_active_user
FROM bronze_logins
WHERE event_date = :report_date
