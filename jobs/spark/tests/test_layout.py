import unittest
from datetime import date, datetime, timedelta, timezone

from lakestream_spark.layout import (
    checkpoint_uri,
    dataset_name,
    day_folder_uri,
    gold_report_day_uri,
    gold_report_uri,
    kafka_dataset_uri,
    landing_dataset_uri,
    normalize_prefix_uri,
    partition_values,
    quarantine_uri,
)


class LayoutTest(unittest.TestCase):
    def test_normalize_prefix_uri(self):
        self.assertEqual(normalize_prefix_uri("s3://lake-bronze"), "s3://lake-bronze/")
        self.assertEqual(normalize_prefix_uri(" s3://lake-bronze/data// "), "s3://lake-bronze/data/")
        self.assertEqual(normalize_prefix_uri("/tmp/lake"), "/tmp/lake/")
        for bad in ("lake-bronze/data", "s3://Upper_Case/", "https://lake/", "s3://a/"):
            with self.subTest(uri=bad), self.assertRaises(ValueError):
                normalize_prefix_uri(bad)

    def test_dataset_name(self):
        self.assertEqual(dataset_name("logins.raw"), "logins_raw")
        self.assertEqual(dataset_name(" Login-Counts.v2 "), "login_counts_v2")
        with self.assertRaises(ValueError):
            dataset_name("..")

    def test_dataset_locations(self):
        self.assertEqual(kafka_dataset_uri("s3://bronze", "logins.raw"), "s3://bronze/kafka/logins_raw/")
        self.assertEqual(landing_dataset_uri("s3://bronze/", "logins"), "s3://bronze/landing/logins/")
        self.assertEqual(quarantine_uri("s3://bronze/", "logins"), "s3://bronze/quarantine/landing/logins/")
        self.assertEqual(checkpoint_uri("s3://bronze/_checkpoints", "logins.counts"), "s3://bronze/_checkpoints/kafka/logins_counts/")
        self.assertEqual(gold_report_uri("s3://gold-bucket", "top_users"), "s3://gold-bucket/reports/top_users/")

    def test_day_folders(self):
        self.assertEqual(day_folder_uri("s3://bronze/landing/logins", "landed_on", date(2024, 1, 7)), "s3://bronze/landing/logins/landed_on=2024-01-07/")
        self.assertEqual(gold_report_day_uri("s3://gold-bucket/", "top_users", date(2024, 2, 29)), "s3://gold-bucket/reports/top_users/report_date=2024-02-29/")

    def test_partition_values_are_utc_date_and_padded_hour(self):
        self.assertEqual(partition_values(datetime(2024, 1, 7, 5, 59, tzinfo=timezone.utc)), ("2024-01-07", "05"))
        # 00:30 in UTC+02:00 is 22:30 the previous day in UTC.
        plus_two = timezone(timedelta(hours=2))
        self.assertEqual(partition_values(datetime(2024, 1, 7, 0, 30, tzinfo=plus_two)), ("2024-01-06", "22"))

    def test_partition_values_refuse_naive_times(self):
        with self.assertRaises(ValueError):
            partition_values(datetime(2024, 1, 7, 5, 0))


if __name__ == "__main__":
    unittest.main()
