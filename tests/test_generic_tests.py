"""The hand-written generic tests (macros/tests/) pass on good rows and fail on bad ones.

tests/generic_tests_project runs each of them on a five-row model; a test named
pass_* must pass and one named fail_* must fail, with the expected failing rows.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from access_analytics.paths import venv_bin

PROJECT = Path(__file__).parent / "generic_tests_project"

EXPECTED_FAILURES = {
    "fail_accepted_range_upper": 1,
    "fail_accepted_range_exclusive": 2,
    "fail_expression_is_true_false_rows": 2,  # 40 is not < 40, null is not true
    "fail_expression_is_true_null_is_not_true": 1,
    "fail_unique_combination": 2,  # kinds a and b repeat
    "fail_single_value_per_key": 1,  # measurement 4 is of kind b and c
    "fail_accepted_contract_values_other_column": 1,  # c is not a short_kind
    "fail_no_identifiers_in_clear": 2,  # a registered key id, a VIN-shaped note
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    workdir = tmp_path_factory.mktemp("generic_tests")
    env = {**os.environ, "GENERIC_TESTS_WAREHOUSE": str(workdir / "check.duckdb")}
    target = workdir / "target"
    completed = subprocess.run(
        [
            venv_bin("dbt"),
            "build",
            "--profiles-dir",
            ".",
            "--target-path",
            str(target),
            "--log-path",
            str(target),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1, completed.stdout[-3000:]  # the fail_* tests fail
    run = json.loads((target / "run_results.json").read_text())
    return {result["unique_id"].split(".")[2]: result for result in run["results"]}


def test_every_pass_test_passes(results):
    passing = {name: r["status"] for name, r in results.items() if name.startswith("pass_")}
    assert passing and set(passing.values()) == {"pass"}, passing


@pytest.mark.parametrize(("name", "failing_rows"), EXPECTED_FAILURES.items())
def test_every_fail_test_fails_on_the_bad_rows(results, name, failing_rows):
    assert results[name]["status"] == "fail"
    assert results[name]["failures"] == failing_rows
