"""Login counts: the speed layer's PyFlink job (Managed Service for Apache Flink, FLINK-1_20).

Input: topic `logins.raw` (application property topic.raw), one JSON login event per record:
    {"event_id": "e-1", "user_id": "u-42", "event_time": "2024-05-01T12:00:00Z",
     "source": "ga4", "schema_version": 1}
(validation rules: login_records.py; the event_time grammar is the one the SQL parses).

Output: compacted topic `logins.counts` (topic.counts), two kinds of JSON records:
    running   key = user_id
              {"user_id": "u-42", "login_count": 17, "kind": "running",
               "emitted_at": "2024-05-01T12:00:03.512Z"}
              The user's count of accepted logins since the job first started (late and replayed
              events included). Updated on every login.
    window    key = "<user_id>|<window_start>"
              {"user_id": "u-42", "window_start": "2024-05-01T12:00:00Z",
               "window_end": "2024-05-01T12:05:00Z", "window_login_count": 3, "kind": "window",
               "emitted_at": "2024-05-01T12:05:10.007Z"}
              Logins per user per tumbling event-time window of window.minutes, emitted when the
              watermark (max event time - watermark.seconds) passes window_end, and re-emitted with
              the new count for each event up to lateness.seconds late. Later events still count
              in the running total but not in their window. Window records carry no login_count.
All timestamps are UTC; emitted_at is processing time. Keys of the two kinds never collide, so
compaction keeps the latest running count and the latest count of every window.

Dead letters: topic `logins.raw.dlq` (topic.dlq), one JSON record per rejected input:
    {"reason": "...", "payload": "<the raw value as text>", "source_topic": "logins.raw",
     "source_partition": 0, "source_offset": 1234, "broker_timestamp": "...", "rejected_at": "..."}

Code layout in the application zip (built at deploy time by the FlinkApplication construct):
    <code folder>/main.py, job_config.py, login_records.py, login_sql.py   (this folder)
    lib/lakestream-connectors.jar   Kafka connector + kafka-clients + aws-msk-iam-auth, merged
Configuration: application property group `lakestream` (job_config.py).
"""
