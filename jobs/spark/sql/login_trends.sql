-- PORTABLE SQL: this file runs unchanged on Spark SQL 3.5 (EMR Serverless 7) and on DuckDB (the
-- report test, test/jobs/daily-report-sql.test.ts). Keep to the subset both engines share: CTEs,
-- GROUP BY, CASE, COALESCE, NULLIF, CAST(x AS DOUBLE|DATE), ROUND, COUNT(DISTINCT), window functions
-- with OVER (PARTITION BY .. ORDER BY ..), DATE 'yyyy-mm-dd' literals. Not allowed: `::` casts, QUALIFY,
-- date +/- INTERVAL arithmetic (the engines return different types; lakestream_spark.report_sql
-- computes derived dates), engine-specific functions (date_diff/datediff, json_*, sequence, range).
-- Parameters (:name) are substituted by lakestream_spark.report_sql.render_sql on both engines.
--
-- Gold: login-count trend on :report_date. logins_moving_avg is the :trend_days-day moving average of
-- daily logins over [:trend_window_start, :report_date]; days without any login count as zero (the sum
-- is divided by :trend_days, not by the number of days present). previous_logins_moving_avg is the same
-- average over the window just before, so the two compare week over week. Always one row.
WITH daily AS (
  SELECT event_date, COUNT(DISTINCT event_id) AS logins, COUNT(DISTINCT user_id) AS active_users
  FROM bronze_logins
  WHERE event_date BETWEEN :previous_window_start AND :report_date
  GROUP BY event_date
)
SELECT
  :report_date AS report_date,
  COALESCE(SUM(CASE WHEN event_date = :report_date THEN logins END), 0) AS logins,
  COALESCE(SUM(CASE WHEN event_date = :report_date THEN active_users END), 0) AS active_users,
  ROUND(CAST(COALESCE(SUM(CASE WHEN event_date >= :trend_window_start THEN logins END), 0) AS DOUBLE) / :trend_days, 3) AS logins_moving_avg,
  ROUND(CAST(COALESCE(SUM(CASE WHEN event_date <= :previous_window_end THEN logins END), 0) AS DOUBLE) / :trend_days, 3) AS previous_logins_moving_avg,
  COUNT(CASE WHEN event_date >= :trend_window_start THEN 1 END) AS days_with_logins
FROM daily
