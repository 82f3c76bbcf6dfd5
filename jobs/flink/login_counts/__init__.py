"""Login counts: the speed layer's PyFlink job (Managed Service for Apache Flink, FLINK-1_20).

Input: topic `logins.raw` (application property topic.raw), one JSON login event per record:
    {"event_id": "e-1", "user_id": "u-42", "event_time": "2024-05-01T12:00:00Z",
     "source": "ga4", "schema_version": 1}
(validation: the login-event contract, via contract_validator.py, generated from
jobs/contracts/login-event.schema.json; plus the future-skew rule in login_records.py).

Output: compacted topic `logins.counts` (topic.counts), records of contract login-count-event v2:
    running   key = user_id, Kafka timestamp = the newest counted event time
              {"user_id": "u-42", "login_count": 17, "kind": "running",
               "emitted_at": "2024-05-01T12:00:03.512Z", "schema_version": 2}
              The user's count of accepted logins the job has read (late and replayed events
              included). Updated on every login.
    window    key = "<user_id>|<window_start>", Kafka timestamp = window_end
              {"user_id": "u-42", "login_count": 3, "kind": "window", "window_start": "2024-05-01T12:00:00Z",
               "window_end": "2024-05-01T12:05:00Z", "emitted_at": "2024-05-01T12:05:10.007Z", "schema_version": 2}
              Logins per user per tumbling event-time window of window.minutes, emitted when the
              watermark (max event time - watermark.seconds) passes window_end, and re-emitted with
              the new count for each event up to lateness.seconds late. Later events still count
              in the running total but not in their window.
All timestamps are UTC; emitted_at is processing time. Keys of the two kinds never collide, so
compaction keeps the latest running count and the latest count of every window.
Without restored state (a new or re-created application) the job reads logins.raw from the
earliest retained offset, so running counts are rebuilt, never restarted at 0 mid-topic.

Dead letters: topic `logins.raw.dlq` (topic.dlq), one JSON record per rejected input:
    {"reason": "...", "payload": "<the raw value as text>", "source_topic": "logins.raw",
     "source_partition": 0, "source_offset": 1234, "broker_timestamp": "...", "rejected_at": "..."}

Code layout in the application zip (built at deploy time by the FlinkApplication construct):
    <code folder>/main.py, job_config.py, login_records.py, login_sql.py, contract_validator.py (this folder)
    lib/lakestream-connectors.jar   Kafka connector + kafka-clients + aws-msk-iam-auth, merged
Configuration: application property group `lakestream` (job_config.py).
"""
