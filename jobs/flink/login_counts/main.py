"""Entry point of the login-counts job on Managed Service for Apache Flink (runtime FLINK-1_20).

Managed Flink runs this file as a script (`kinesis.analytics.flink.run.options` -> `python`), so
its folder is on sys.path and the sibling modules import as top-level modules; the same folder is
shipped to the Python UDF workers through `pyFiles`. The tests import it as a package module.
PyFlink is imported inside main() only: the pure parts here are tested without it.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Optional

if __package__:
    from . import job_config, login_records, login_sql
else:
    import job_config  # type: ignore[no-redef]
    import login_records  # type: ignore[no-redef]
    import login_sql  # type: ignore[no-redef]

# Lets a developer run the job against a local properties file (and wait for it) instead of
# the file Managed Flink writes.
PROPERTIES_PATH_VARIABLE = "LAKESTREAM_PROPERTIES_FILE"


def properties_path(environ: "os._Environ[str] | dict[str, str]") -> str:
    return environ.get(PROPERTIES_PATH_VARIABLE) or job_config.DEFAULT_PROPERTIES_PATH


def is_local_run(environ: "os._Environ[str] | dict[str, str]") -> bool:
    return bool(environ.get(PROPERTIES_PATH_VARIABLE))


def make_rejection_function(max_future_skew_seconds: int):
    """The body of the login_rejection UDF, bound to the configured skew bound."""
    skew = timedelta(seconds=max_future_skew_seconds)

    def login_rejection(payload: Optional[bytes], broker_time: Optional[datetime]) -> Optional[str]:
        return login_records.rejection_reason(payload, broker_time, skew)

    return login_rejection


def main() -> None:
    from pyflink.table import DataTypes, EnvironmentSettings, TableEnvironment
    from pyflink.table.udf import udf

    config = job_config.load_application_properties(properties_path(os.environ))
    plan = login_sql.build_plan(config)

    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    settings = table_env.get_config()
    for key, value in plan.table_config.items():
        settings.set(key, value)

    table_env.create_temporary_system_function(
        login_sql.REJECTION_UDF,
        udf(
            make_rejection_function(config.max_future_skew_seconds),
            input_types=[DataTypes.BYTES(), DataTypes.TIMESTAMP_LTZ(3)],
            result_type=DataTypes.STRING(),
            deterministic=True,
        ),
    )
    for statement in plan.ddl:
        table_env.execute_sql(statement)

    statement_set = table_env.create_statement_set()
    for statement in plan.inserts:
        statement_set.add_insert_sql(statement)
    result = statement_set.execute()
    # On Managed Flink the job must be submitted and left running; only a local run waits.
    if is_local_run(os.environ):
        result.wait()


if __name__ == "__main__":
    main()
