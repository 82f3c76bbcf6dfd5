-- Speed view: the speed layer's per-user login counts per Flink window, for yesterday and today (UTC).
-- Semantics (day boundary, late events, replays, duplicates): jobs/serving/README.md.
-- PORTABLE SQL: runs on Athena (Trino) and on DuckDB (test/jobs/serving-sql.test.ts). Placeholders
-- ${...} are filled by renderServingSql (lib/constructs/lake/serving-views.ts); ${today} is the
-- current UTC date (a DATE expression). Every output column is cast to the type declared in the
-- Glue view, because Athena refuses a view whose query types differ from its stored columns.
-- ${user_column} is user_id, or user_ref (the Spark-computed keyed pseudonym) when dashboards are
-- pseudonymous; ${speed_user} is where the speed layer's records carry it.
WITH window_records AS (
  SELECT
    ${speed_user} AS record_user,
    json_extract_scalar(value, '$.window_start') AS record_window_start,
    json_extract_scalar(value, '$.window_end') AS record_window_end,
    TRY_CAST(json_extract_scalar(value, '$.login_count') AS bigint) AS record_logins,
    json_extract_scalar(value, '$.emitted_at') AS record_emitted_at,
    kafka_partition,
    kafka_offset
  FROM "${silver_database}"."kafka_logins_counts"
  -- dt is the UTC day of the Kafka timestamp, which Flink sets to window_end for window records
  -- (contract login-count-event v2). Windows of yesterday and today end between yesterday and
  -- tomorrow 00:00, so these three partitions hold every version of them.
  WHERE dt BETWEEN CAST(CAST(${today} - INTERVAL '1' DAY AS date) AS varchar)
               AND CAST(CAST(${today} + INTERVAL '1' DAY AS date) AS varchar)
    AND json_extract_scalar(value, '$.kind') = 'window'
),
versions AS (
  SELECT
    record_user, record_window_start, record_window_end, record_logins, record_emitted_at,
    -- The latest record of a window is its count: a late event re-emits the window with the new
    -- total, and redelivered or replayed records repeat a count that a later one supersedes.
    row_number() OVER (
      PARTITION BY record_user, record_window_start
      ORDER BY record_emitted_at DESC, kafka_partition DESC, kafka_offset DESC
    ) AS recency
  FROM window_records
  WHERE record_user IS NOT NULL AND record_window_start IS NOT NULL AND record_logins IS NOT NULL
)
SELECT
  CAST(substr(record_window_start, 1, 10) AS varchar) AS login_date,
  CAST(replace(replace(record_window_start, 'T', ' '), 'Z', '') AS timestamp) AS window_start,
  CAST(replace(replace(record_window_end, 'T', ' '), 'Z', '') AS timestamp) AS window_end,
  CAST(record_user AS varchar) AS ${user_column},
  CAST(record_logins AS bigint) AS logins,
  CAST(replace(replace(record_emitted_at, 'T', ' '), 'Z', '') AS timestamp) AS emitted_at
FROM versions
WHERE recency = 1
  AND substr(record_window_start, 1, 10) BETWEEN CAST(CAST(${today} - INTERVAL '1' DAY AS date) AS varchar)
                                             AND CAST(${today} AS varchar)
