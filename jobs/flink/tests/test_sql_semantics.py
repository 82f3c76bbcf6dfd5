"""Rules of the Flink planner that a grammar cannot see, checked on the SQL the job really runs.

1. Interval literals, over every value the configuration allows: Calcite's leading-field precision
   defaults to 2 (the leading field must be below 100; SqlIntervalQualifier), Flink refuses
   day-time interval types with a precision above 3 (FlinkTypeFactory: "DAY_INTERVAL_TYPES
   precision is not supported"), and trailing fields stay within their unit (hours < 24, ...).
2. The count records: the INSERT statements' select lists are evaluated on aggregated rows, and
   the resulting Kafka values are validated against jobs/contracts/login-count-event.schema.json.
"""
import json
import os
import re
import unittest
from datetime import datetime, timedelta

from jobs.contracts.contract_validator import explainer
from jobs.flink.login_counts.job_config import JobConfig
from jobs.flink.login_counts.login_sql import (
    OUTPUT_SCHEMA_VERSION,
    RUNNING_SINK,
    WINDOW_SINK,
    build_statements,
    interval_literal,
)
from jobs.flink.tests.test_login_sql import split_top_level, statement_named, table_columns

CONTRACTS = os.path.join(os.path.dirname(__file__), "..", "..", "contracts")
# The ranges job_config accepts (and lib/config/schema.ts for window minutes and lateness).
WINDOW_MINUTES = range(1, 1441)
WATERMARK_SECONDS = range(0, 3601)
FUTURE_SKEW_SECONDS = range(0, 86401)

_INTERVAL = re.compile(
    r"INTERVAL '(?P<text>[^']*)' (?P<start>DAY|HOUR|MINUTE|SECOND)(?:\((?P<precision>\d+)(?:,\s*\d+)?\))?" r"(?: TO (?P<end>HOUR|MINUTE|SECOND)(?:\(\d+\))?)?"
)
_SECONDS = {"DAY": 86400, "HOUR": 3600, "MINUTE": 60, "SECOND": 1}
_TRAILING_LIMIT = {"HOUR": 24, "MINUTE": 60, "SECOND": 60}
_FIELDS = ["DAY", "HOUR", "MINUTE", "SECOND"]


def interval_seconds(literal: str) -> int:
    """The duration of one interval literal, or AssertionError naming the planner rule it breaks."""
    match = _INTERVAL.fullmatch(literal)
    if match is None:
        raise AssertionError(f"not a day-time interval literal: {literal}")
    start, end = match.group("start"), match.group("end") or match.group("start")
    precision = int(match.group("precision") or 2)
    if not 1 <= precision <= 3:
        raise AssertionError(f"{literal}: Flink plans day-time intervals up to precision 3, got {precision}")
    fields = _FIELDS[_FIELDS.index(start) : _FIELDS.index(end) + 1]
    values = [int(value) for value in re.split(r"[ :]", match.group("text"))]
    if len(values) != len(fields):
        raise AssertionError(f"{literal}: {len(fields)} fields expected for {start} TO {end}")
    if values[0] >= 10**precision:
        raise AssertionError(f"{literal}: Interval field value {values[0]} exceeds precision of {start}({precision}) field")
    for field, value in zip(fields[1:], values[1:]):
        if value >= _TRAILING_LIMIT[field]:
            raise AssertionError(f"{literal}: {field} field value {value} is out of range")
    return sum(value * _SECONDS[field] for field, value in zip(fields, values))


def config(**overrides):
    return JobConfig(bootstrap_servers=("b-1.msk.example:9098",), **overrides)


class IntervalCheckerTest(unittest.TestCase):
    def test_the_checker_knows_the_planner_rules(self):
        self.assertEqual(interval_seconds("INTERVAL '99' SECOND"), 99)
        self.assertEqual(interval_seconds("INTERVAL '1 00:01:40' DAY TO SECOND"), 86500)
        for literal in ["INTERVAL '300' SECOND", "INTERVAL '1440' MINUTE", "INTERVAL '86400' SECOND(5)", "INTERVAL '0 24:00:00' DAY TO SECOND"]:
            with self.subTest(literal=literal), self.assertRaises(AssertionError):
                interval_seconds(literal)


class IntervalLiteralTest(unittest.TestCase):
    def assertValidFor(self, seconds_values):
        for seconds in seconds_values:
            literal = interval_literal(seconds)
            if interval_seconds(literal) != seconds:
                self.fail(f"{literal} is not {seconds} seconds")

    def test_every_window_length(self):
        self.assertValidFor(minutes * 60 for minutes in WINDOW_MINUTES)

    def test_every_watermark_delay(self):
        self.assertValidFor(WATERMARK_SECONDS)

    def test_every_future_skew_bound(self):
        self.assertValidFor(FUTURE_SKEW_SECONDS)

    def test_readable_forms(self):
        self.assertEqual(interval_literal(300), "INTERVAL '5' MINUTE")
        self.assertEqual(interval_literal(86400), "INTERVAL '1' DAY")
        self.assertEqual(interval_literal(301), "INTERVAL '0 00:05:01' DAY TO SECOND")
        self.assertEqual(interval_literal(0), "INTERVAL '0' SECOND")
        with self.assertRaises(ValueError):
            interval_literal(-1)

    def test_every_literal_in_the_statements_at_the_config_extremes(self):
        extremes = [
            config(window_minutes=w, watermark_seconds=m, max_future_skew_seconds=s, lateness_seconds=l)
            for w in (1, 99, 100, 1439, 1440)
            for m in (0, 99, 100, 3599, 3600)
            for s in (0, 99, 100, 301, 86399, 86400)
            for l in (0, 86400)
        ]
        for job in extremes:
            literals = [m.group(0) for statement in build_statements(job) for m in _INTERVAL.finditer(statement)]
            self.assertEqual(len(literals), 7)
            for literal in literals:
                interval_seconds(literal)


# --- the count records -------------------------------------------------------------------------

_JAVA_FORMAT = [("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


def java_date_format(value: datetime, pattern: str) -> str:
    """DATE_FORMAT with the Java pattern letters the job uses; quoted text is copied."""
    out, index = [], 0
    while index < len(pattern):
        if pattern[index] == "'":
            end = pattern.index("'", index + 1)
            out.append(pattern[index + 1 : end])
            index = end + 1
        elif not pattern[index].isalpha():
            out.append(pattern[index])
            index += 1
        elif pattern.startswith("SSS", index):
            out.append(f"{value.microsecond // 1000:03d}")
            index += 3
        else:
            for letters, code in _JAVA_FORMAT:
                if pattern.startswith(letters, index):
                    out.append(value.strftime(code))
                    index += len(letters)
                    break
            else:
                raise AssertionError(f"pattern letter {pattern[index]!r} is not modelled")
    return "".join(out)


def evaluate(expression: str, row: dict):
    """The value of one select-list expression on one aggregated row (only the forms the job uses)."""
    expression = expression.strip()
    if re.fullmatch(r"`\w+`", expression):
        return row[expression.strip("`")]
    if re.fullmatch(r"'(?:[^']|'')*'", expression):
        return expression[1:-1].replace("''", "'")
    if re.fullmatch(r"\d+", expression):
        return int(expression)
    if expression == "CURRENT_TIMESTAMP":
        return row["now"]
    # The session time zone is UTC, so TIMESTAMP -> TIMESTAMP_LTZ keeps the instant.
    cast = re.fullmatch(r"CAST\((.*) AS TIMESTAMP_LTZ\(3\)\)", expression, re.S)
    if cast is not None:
        return evaluate(cast.group(1), row)
    call = re.fullmatch(r"(\w+)\((.*)\)", expression, re.S)
    if call is None:
        raise AssertionError(f"expression not modelled: {expression}")
    name, arguments = call.group(1), split_top_level(call.group(2))
    if name == "COUNT" and arguments == ["*"]:
        return row["count"]
    if name == "MAX" and arguments == ["`event_time`"]:
        return row["max_event_time"]
    if name in ("TUMBLE_START", "TUMBLE_END"):
        length = timedelta(seconds=interval_seconds(arguments[1]))
        assert row["window_length"] == length, "the window bounds use another length than the GROUP BY"
        return row["window_start"] if name == "TUMBLE_START" else row["window_start"] + length
    if name == "CONCAT":
        return "".join(evaluate(argument, row) for argument in arguments)
    if name == "DATE_FORMAT":
        return java_date_format(evaluate(arguments[0], row), evaluate(arguments[1], row))
    raise AssertionError(f"function not modelled: {name}")


def sink_records(statements, sink, rows):
    """The (key, value, timestamp) Kafka records the upsert sink writes for each aggregated row."""
    ddl = statement_named(statements, f"CREATE TEMPORARY TABLE {sink} ")
    insert = statement_named(statements, f"INSERT INTO {sink}\n")
    expressions = split_top_level(insert[insert.index("SELECT ") + len("SELECT ") : insert.index("\nFROM ")])
    columns = table_columns(ddl)
    metadata = set(re.findall(r"`(\w+)` [^,\n]* METADATA FROM", ddl))
    key = re.search(r"PRIMARY KEY \(`(\w+)`\)", ddl).group(1)
    records = []
    for row in rows:
        values = dict(zip(columns, (evaluate(expression, row) for expression in expressions)))
        # value.fields-include = EXCEPT_KEY; metadata columns are not part of the value format.
        value = {name: v for name, v in values.items() if name != key and name not in metadata}
        records.append((values[key], json.loads(json.dumps(value)), values.get("record_time")))
    return records


def contract_key(rule: str, value: dict) -> str:
    """The contract's x-kafka-key rule ("a[|b]": b joins only when present) applied to a value."""
    parts = re.fullmatch(r"(\w+)((?:\[\|\w+\])*)", rule)
    fields = [parts.group(1), *re.findall(r"\[\|(\w+)\]", parts.group(2))]
    return "|".join(value[field] for field in fields if field in value)


class CountRecordContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(CONTRACTS, "login-count-event.schema.json"), encoding="utf-8") as handle:
            cls.schema = json.load(handle)
        cls.explain = staticmethod(explainer(cls.schema))

    def logins(self):
        base = datetime(2024, 5, 1, 11, 58, 0)
        return [("u-42", base), ("u-42", base + timedelta(minutes=3)), ("u-42", base + timedelta(minutes=9)), ("o'neil", base)]

    def aggregate(self, window_minutes):
        now = datetime(2024, 5, 1, 12, 30, 0, 512000)
        length = timedelta(minutes=window_minutes)
        running, windows = {}, {}
        for user, at in self.logins():
            count, newest = running.get(user, (0, at))
            running[user] = (count + 1, max(newest, at))
            start = datetime(2024, 1, 1) + ((at - datetime(2024, 1, 1)) // length) * length
            windows[(user, start)] = windows.get((user, start), 0) + 1
        running_rows = [{"user_id": u, "count": c, "max_event_time": t, "now": now} for u, (c, t) in running.items()]
        window_rows = [{"user_id": u, "count": c, "window_start": s, "window_length": length, "now": now} for (u, s), c in windows.items()]
        return running_rows, window_rows

    def test_every_record_satisfies_the_published_schema_with_the_contract_key_and_event_time(self):
        self.assertEqual(self.schema["x-schema-version"], OUTPUT_SCHEMA_VERSION)
        for window_minutes in (1, 5, 7, 60, 1440):
            statements = build_statements(config(window_minutes=window_minutes))
            running_rows, window_rows = self.aggregate(window_minutes)
            running = sink_records(statements, RUNNING_SINK, running_rows)
            window = sink_records(statements, WINDOW_SINK, window_rows)
            self.assertEqual(len(running), 2)
            for (key, value, timestamp), row in zip(running + window, running_rows + window_rows):
                with self.subTest(window_minutes=window_minutes, value=value):
                    self.assertIsNone(self.explain(value))
                    self.assertEqual(key, contract_key(self.schema["x-kafka-key"], value))
                    self.assertEqual(value["login_count"], row["count"])
                    if value["kind"] == "running":
                        self.assertNotIn("window_start", value)
                        self.assertEqual(timestamp, row["max_event_time"])
                    else:
                        self.assertLess(value["window_start"], value["window_end"])
                        self.assertEqual(timestamp, row["window_start"] + row["window_length"])
                        self.assertEqual(value["window_end"], java_date_format(timestamp, "yyyy-MM-dd'T'HH:mm:ss'Z'"))

    def test_the_records_of_the_old_job_would_have_failed(self):
        old_window = {
            "user_id": "u",
            "window_start": "2024-05-01T12:00:00Z",
            "window_end": "2024-05-01T12:05:00Z",
            "window_login_count": 3,
            "kind": "window",
            "emitted_at": "2024-05-01T12:05:10.007Z",
        }
        self.assertIsNotNone(self.explain(old_window))


if __name__ == "__main__":
    unittest.main()
