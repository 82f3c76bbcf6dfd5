import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import zipfile
from datetime import date

from lakestream_spark.report_sql import BRONZE_VIEW, REPORTS, load_sql, render_all, render_literal, render_sql, report_dates, report_parameters

SPARK_JOBS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ReportParametersTest(unittest.TestCase):
    def test_derived_windows(self):
        params = report_parameters(date(2024, 1, 7), top_n=3, trend_days=7)
        self.assertEqual(params["report_date"], date(2024, 1, 7))
        self.assertEqual(params["trend_window_start"], date(2024, 1, 1))
        self.assertEqual(params["previous_window_end"], date(2023, 12, 31))
        self.assertEqual(params["previous_window_start"], date(2023, 12, 25))
        self.assertEqual(params["lookback_start"], date(2023, 12, 25))
        self.assertEqual((params["top_n"], params["trend_days"]), (3, 7))

    def test_one_day_window(self):
        params = report_parameters(date(2024, 3, 1), top_n=1, trend_days=1)
        self.assertEqual(params["trend_window_start"], date(2024, 3, 1))
        self.assertEqual(params["previous_window_start"], date(2024, 2, 29))
        self.assertEqual(params["previous_window_end"], date(2024, 2, 29))

    def test_rejects_non_positive_sizes(self):
        with self.assertRaisesRegex(ValueError, "top_n"):
            report_parameters(date(2024, 1, 7), top_n=0, trend_days=7)
        with self.assertRaisesRegex(ValueError, "trend_days"):
            report_parameters(date(2024, 1, 7), top_n=1, trend_days=0)


class ReportDatesTest(unittest.TestCase):
    def test_late_days_report_the_days_before_again(self):
        self.assertEqual(report_dates(date(2024, 3, 1), 2), [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)])
        self.assertEqual(report_dates(date(2024, 3, 1), 0), [date(2024, 3, 1)])
        with self.assertRaisesRegex(ValueError, "late_days must be from 0 to 31"):
            report_dates(date(2024, 3, 1), 32)


class RenderSqlTest(unittest.TestCase):
    def test_literals(self):
        self.assertEqual(render_literal(date(2024, 1, 7)), "DATE '2024-01-07'")
        self.assertEqual(render_literal(42), "42")
        self.assertEqual(render_literal("O'Brien"), "'O''Brien'")
        with self.assertRaises(TypeError):
            render_literal(True)
        with self.assertRaises(TypeError):
            render_literal(1.5)

    def test_substitutes_every_occurrence(self):
        sql = render_sql("SELECT :d AS d WHERE x = :d AND n <= :top_n", {"d": date(2024, 1, 7), "top_n": 5})
        self.assertEqual(sql, "SELECT DATE '2024-01-07' AS d WHERE x = DATE '2024-01-07' AND n <= 5")

    def test_leaves_string_literals_comments_and_double_colons_alone(self):
        template = "SELECT ':d', 'it''s :d', x::date -- uses :d\nFROM t WHERE y = :d"
        self.assertEqual(
            render_sql(template, {"d": 1}),
            "SELECT ':d', 'it''s :d', x::date -- uses :d\nFROM t WHERE y = 1",
        )

    def test_longest_name_wins(self):
        self.assertEqual(render_sql(":report_date_text :report_date", {"report_date": 1, "report_date_text": 2}), "2 1")

    def test_unknown_parameter_fails_with_its_name(self):
        with self.assertRaisesRegex(KeyError, ":report_dat has no value"):
            render_sql("WHERE d = :report_dat", {"report_date": date(2024, 1, 7)})


class ReportFilesTest(unittest.TestCase):
    def test_every_file_declares_the_portable_subset(self):
        for report in (BRONZE_VIEW, *REPORTS):
            with self.subTest(report=report.name):
                self.assertTrue(load_sql(report).startswith("-- PORTABLE SQL: this file runs unchanged on Spark SQL"))

    def test_every_file_renders_completely(self):
        rendered = render_all(report_parameters(date(2024, 1, 7), 10, 7))
        self.assertEqual(set(rendered), {"bronze_logins", *(r.name for r in REPORTS)})
        for name, sql in rendered.items():
            code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
            with self.subTest(report=name):
                self.assertNotRegex(code, r"(?<!:):[a-z_]")
                # Constructs one of the two engines lacks.
                self.assertNotRegex(code.upper(), r"::|\bQUALIFY\b|\bINTERVAL\b|\bDATEDIFF\b|\bDATE_DIFF\b")
                if name != "bronze_logins":
                    self.assertIn("report_date", code)

    def test_reads_sql_from_the_py_files_zip(self):
        # On EMR the job folder is a zip on sys.path (--py-files); the SQL must load from inside it.
        with tempfile.TemporaryDirectory() as tmp:
            archive = os.path.join(tmp, "spark-jobs.zip")
            with zipfile.ZipFile(archive, "w") as zf:
                for folder in ("lakestream_spark", "sql"):
                    for name in os.listdir(os.path.join(SPARK_JOBS_DIR, folder)):
                        if name.endswith((".py", ".sql")):
                            zf.write(os.path.join(SPARK_JOBS_DIR, folder, name), f"{folder}/{name}")
            # A fresh interpreter with only the zip on its path, as the Spark driver sees it.
            probe = (
                "from lakestream_spark import report_sql as m; import sys; "
                "assert hasattr(m.__loader__, 'archive'), m.__file__; "
                "sys.stdout.write(m.load_sql(m.REPORTS[0]))"
            )
            loaded = subprocess.run([sys.executable, "-c", probe], cwd=tmp, env={"PYTHONPATH": archive}, check=True, capture_output=True, text=True).stdout
            self.assertEqual(loaded, load_sql(REPORTS[0]))

    def test_command_line_prints_rendered_reports(self):
        output = subprocess.run(
            [sys.executable, "-m", "lakestream_spark.report_sql", "--report-date", "2024-01-07", "--top-n", "2"],
            cwd=SPARK_JOBS_DIR,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rendered = json.loads(output)
        self.assertIn("WHERE login_rank <= 2", rendered["top_users"])
        per_day = json.loads(
            subprocess.run(
                [sys.executable, "-m", "lakestream_spark.report_sql", "--report-date", "2024-01-07", "--late-days", "1"],
                cwd=SPARK_JOBS_DIR,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        self.assertEqual(sorted(per_day), ["2024-01-06", "2024-01-07"])
        self.assertIn("DATE '2024-01-06'", per_day["2024-01-06"]["daily_active_users"])
        self.assertRegex(rendered["login_trends"], re.escape("/ 7, 3) AS logins_moving_avg"))


if __name__ == "__main__":
    unittest.main()
