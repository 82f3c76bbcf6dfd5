"""Report SQL: which files make the daily report, their parameters, and how parameters are rendered.

The SQL files in ../sql are written in the subset of SQL that both Spark SQL (EMR) and DuckDB (tests)
run. Parameters appear as `:name` and are replaced by `render_sql` with typed literals, so the very
same rendered text runs on both engines. The DuckDB test calls this module's command line
(`python3 -m lakestream_spark.report_sql ...`) instead of re-implementing the substitution.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Dict, List, Mapping, Optional, Sequence, Union

ParameterValue = Union[date, int, str]

# Bounds of the job arguments (daily_report.py). The SQL grammar test renders the SQL at both ends.
TOP_N_RANGE = (1, 1000)
TREND_DAYS_RANGE = (1, 366)
LATE_DAYS_RANGE = (0, 31)


@dataclass(frozen=True)
class Report:
    """One gold dataset produced by one SQL file, partitioned by report_date."""

    name: str
    sql_file: str
    # Per-user rows (a user_id column): the job adds user_ref, the keyed pseudonym dashboards show.
    per_user: bool = False


# Builds the `bronze_logins` view from the engine-registered relations bronze_logins_kafka and
# bronze_logins_landing (see daily_report.py and the DuckDB test).
BRONZE_VIEW = Report("bronze_logins", "bronze_logins.sql")
REPORTS = (
    Report("logins_per_user_per_day", "logins_per_user_per_day.sql", per_user=True),
    Report("daily_active_users", "daily_active_users.sql"),
    Report("top_users", "top_users.sql", per_user=True),
    Report("login_trends", "login_trends.sql"),
)


def report_parameters(report_date: date, top_n: int, trend_days: int) -> Dict[str, ParameterValue]:
    """Every parameter the report SQL uses. Date arithmetic happens here, not in SQL, because Spark and
    DuckDB disagree on the result types of DATE +/- INTERVAL."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    if trend_days < 1:
        raise ValueError(f"trend_days must be at least 1, got {trend_days}")
    window_start = report_date - timedelta(days=trend_days - 1)
    previous_window_end = window_start - timedelta(days=1)
    previous_window_start = previous_window_end - timedelta(days=trend_days - 1)
    return {
        "report_date": report_date,
        "top_n": top_n,
        "trend_days": trend_days,
        "trend_window_start": window_start,
        "previous_window_start": previous_window_start,
        "previous_window_end": previous_window_end,
        # The earliest bronze partition any report reads.
        "lookback_start": previous_window_start,
    }


def report_dates(report_date: date, late_days: int) -> List[date]:
    """The days one run reports on: `late_days` days before `report_date`, then `report_date` (late
    events of those days have reached bronze since their previous run)."""
    low, high = LATE_DAYS_RANGE
    if not low <= late_days <= high:
        raise ValueError(f"late_days must be from {low} to {high}, got {late_days}")
    return [report_date - timedelta(days=offset) for offset in range(late_days, -1, -1)]


def render_literal(value: ParameterValue) -> str:
    """A SQL literal both engines parse the same way."""
    if isinstance(value, bool):
        raise TypeError("booleans are not report parameters")
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


def render_sql(template: str, parameters: Mapping[str, ParameterValue]) -> str:
    """Replaces each `:name` outside string literals and comments with the parameter's literal.

    Fails on a parameter the template uses but `parameters` lacks, so a typo cannot silently become a
    NULL or a column reference.
    """
    out: List[str] = []
    i, length = 0, len(template)
    while i < length:
        char = template[i]
        if char == "'":
            end = i + 1
            while end < length:
                if template[end] == "'":
                    if end + 1 < length and template[end + 1] == "'":
                        end += 2
                        continue
                    break
                end += 1
            out.append(template[i : end + 1])
            i = end + 1
        elif template.startswith("--", i):
            end = template.find("\n", i)
            end = length if end == -1 else end
            out.append(template[i:end])
            i = end
        elif char == ":" and i + 1 < length and (template[i + 1].isalpha() or template[i + 1] == "_") and (i == 0 or template[i - 1] != ":"):
            end = i + 1
            while end < length and (template[end].isalnum() or template[end] == "_"):
                end += 1
            name = template[i + 1 : end]
            if name not in parameters:
                raise KeyError(f"SQL parameter :{name} has no value (known: {', '.join(sorted(parameters))})")
            out.append(render_literal(parameters[name]))
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def read_packaged_text(relative_path: str) -> str:
    """Reads a file shipped next to this package: from the repository, or from inside the zip that
    EMR Serverless puts on sys.path through `--py-files`."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(package_dir), relative_path)
    loader = globals().get("__loader__")
    if hasattr(loader, "archive"):
        return loader.get_data(path).decode("utf-8")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def load_sql(report: Report) -> str:
    return read_packaged_text(os.path.join("sql", report.sql_file))


def render_all(parameters: Mapping[str, ParameterValue]) -> Dict[str, str]:
    """The bronze view and every report, rendered with the same parameters."""
    return {report.name: render_sql(load_sql(report), parameters) for report in (BRONZE_VIEW, *REPORTS)}


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Print the rendered report SQL as JSON {name: sql}, or with --late-days {day: {name: sql}} for every day one run reports on."
    )
    parser.add_argument("--report-date", required=True, type=date.fromisoformat)
    parser.add_argument("--top-n", type=int, default=10)
    parser.add_argument("--trend-days", type=int, default=7)
    parser.add_argument("--late-days", type=int, default=None)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    if args.late_days is None:
        output: object = render_all(report_parameters(args.report_date, args.top_n, args.trend_days))
    else:
        output = {day.isoformat(): render_all(report_parameters(day, args.top_n, args.trend_days)) for day in report_dates(args.report_date, args.late_days)}
    json.dump(output, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
