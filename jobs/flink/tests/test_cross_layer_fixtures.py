"""The cross-layer fixture set (test/contracts/fixtures/login-event-verdicts.json) through the Flink
record logic and the Spark parsing; test/contracts/cross-layer.test.ts runs the same set through the
TypeScript glue and compares all three directly."""
import json
import os
import unittest

from jobs.contracts.cross_layer_verdicts import verdicts

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test", "contracts", "fixtures", "login-event-verdicts.json")


class CrossLayerFixturesTest(unittest.TestCase):
    def test_flink_and_spark_give_the_contract_verdict_on_every_fixture(self):
        with open(FIXTURES, encoding="utf-8") as handle:
            fixtures = json.load(handle)["fixtures"]
        self.assertGreater(len(fixtures), 40)
        results = verdicts(fixtures)
        wrong = {
            fixture["name"]: results[fixture["name"]]
            for fixture in fixtures
            if results[fixture["name"]] != {"flink": fixture["valid"], "spark": fixture["valid"]}
        }
        self.assertEqual(wrong, {})


if __name__ == "__main__":
    unittest.main()
