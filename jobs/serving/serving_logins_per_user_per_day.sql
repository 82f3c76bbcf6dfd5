-- Serving view: logins per user per UTC day, the batch view for closed days and the speed view for
-- the rest (today, and yesterday until the daily report has closed it). Semantics: jobs/serving/README.md.
-- PORTABLE SQL (Athena/Trino and DuckDB); placeholders filled by renderServingSql.
WITH closed_days AS (
  SELECT d.report_date AS login_date
  FROM "${gold_database}"."daily_active_users" AS d
  WHERE d.report_date BETWEEN CAST(CAST(${today} - INTERVAL '${batch_days}' DAY AS date) AS varchar)
                          AND CAST(CAST(${today} - INTERVAL '1' DAY AS date) AS varchar)
)
SELECT
  CAST(b.login_date AS varchar) AS login_date,
  CAST(b.${user_column} AS varchar) AS ${user_column},
  CAST(b.logins AS bigint) AS logins,
  CAST('batch' AS varchar) AS layer
FROM "${gold_database}"."batch_logins_per_user_per_day" AS b
UNION ALL
SELECT
  CAST(s.login_date AS varchar) AS login_date,
  CAST(s.${user_column} AS varchar) AS ${user_column},
  CAST(SUM(s.logins) AS bigint) AS logins,
  CAST('speed' AS varchar) AS layer
FROM "${gold_database}"."speed_login_counts" AS s
WHERE s.login_date NOT IN (SELECT c.login_date FROM closed_days AS c)
GROUP BY s.login_date, s.${user_column}
