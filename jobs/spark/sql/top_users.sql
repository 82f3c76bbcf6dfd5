-- PORTABLE SQL: this file runs unchanged on Spark SQL 3.5 (EMR Serverless 7) and on DuckDB (the
-- report test, test/jobs/daily-report-sql.test.ts). Keep to the subset both engines share: CTEs,
-- GROUP BY, CASE, COALESCE, NULLIF, CAST(x AS DOUBLE|DATE), ROUND, COUNT(DISTINCT), window functions
-- with OVER (PARTITION BY .. ORDER BY ..), DATE 'yyyy-mm-dd' literals. Not allowed: `::` casts, QUALIFY,
-- date +/- INTERVAL arithmetic (the engines return different types; lakestream_spark.report_sql
-- computes derived dates), engine-specific functions (date_diff/datediff, json_*, sequence, range).
-- Parameters (:name) are substituted by lakestream_spark.report_sql.render_sql on both engines.
--
-- Gold: the :top_n users with the most logins on :report_date. Ties share a rank (RANK, not
-- ROW_NUMBER), so every user tied at the cut-off is kept and the result may hold more than :top_n rows.
WITH per_user AS (
  SELECT user_id, COUNT(DISTINCT event_id) AS logins, MAX(event_time) AS last_login_at
  FROM bronze_logins
  WHERE event_date = :report_date
  GROUP BY user_id
),
ranked AS (
  SELECT user_id, logins, last_login_at, RANK() OVER (ORDER BY logins DESC) AS login_rank
  FROM per_user
)
SELECT :report_date AS report_date, login_rank, user_id, logins, last_login_at
FROM ranked
WHERE login_rank <= :top_n
ORDER BY login_rank, user_id
