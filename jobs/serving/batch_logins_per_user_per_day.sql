-- Batch view: logins per user per closed UTC day, from the gold daily report, for the last
-- ${batch_days} days before today. Semantics: jobs/serving/README.md.
-- PORTABLE SQL (Athena/Trino and DuckDB); placeholders filled by renderServingSql.
-- A day is closed once the daily report has written its daily_active_users row: the report job
-- writes logins_per_user_per_day before daily_active_users (lakestream_spark.report_sql.REPORTS), and
-- daily_active_users has a row even for a day without logins.
SELECT
  CAST(l.report_date AS varchar) AS login_date,
  CAST(l.${user_column} AS varchar) AS ${user_column},
  CAST(l.logins AS bigint) AS logins
FROM "${gold_database}"."logins_per_user_per_day" AS l
WHERE l.report_date BETWEEN CAST(CAST(${today} - INTERVAL '${batch_days}' DAY AS date) AS varchar)
                        AND CAST(CAST(${today} - INTERVAL '1' DAY AS date) AS varchar)
  AND l.report_date IN (
    SELECT d.report_date
    FROM "${gold_database}"."daily_active_users" AS d
    WHERE d.report_date BETWEEN CAST(CAST(${today} - INTERVAL '${batch_days}' DAY AS date) AS varchar)
                            AND CAST(CAST(${today} - INTERVAL '1' DAY AS date) AS varchar)
  )
