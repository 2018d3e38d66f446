"""The freshness strip at the top of every dashboard, end to end: a published build's
build_info read through Superset's chart data API, and stale data reads as stale."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.operations import chart_queries
from access_analytics.warehouse import (
    DEFAULT_STALE_AFTER_HOURS,
    STALE_AFTER_ENV,
    PublishError,
    check_build,
    publish,
)

STRIP = "Data freshness and build"


def _day(value: Any) -> dt.date:
    """A DATE as the chart data API returns it (epoch milliseconds or ISO text)."""
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date()
    return dt.date.fromisoformat(str(value)[:10])


def expected_strip(build) -> dict[str, Any]:
    """What the strip must show for the build file, computed from its own record."""
    record = check_build(build.path)
    with duckdb.connect(str(build.path), read_only=True) as con:

        def scalar(sql: str, *params: object) -> Any:
            return con.execute(sql, list(params)).fetchone()[0]

        tests = scalar(
            "select count(*) from build_meta.dbt_node_results"
            " where invocation_id = ? and resource_type in ('test', 'unit_test')",
            record.invocation_id,
        )
        quarantined = scalar(
            "select sum(rows_quarantined) from marts.mart_data_quality_daily as quality"
            " inner join build_meta.dbt_raw_tables as raw_table"
            " using (table_name) where raw_table.invocation_id = ?"
            " and quality.ingest_date = raw_table.newest_ingest_date",
            record.invocation_id,
        )
        event_day = scalar(
            "select least("
            " greatest((select max(attempt_date) from marts.fct_unlock_attempts),"
            "  (select max(tap_date) from marts.fct_card_taps),"
            "  (select max(episode_date) from marts.fct_walkaway_episodes)),"
            " (select max(reading_date) from marts.fct_fob_battery_daily))"
        )
    telemetry = [
        t for t in record.raw_tables if t["table_name"] in ("access_events", "fob_battery_readings")
    ]
    assert len(telemetry) == 2 and tests > 100
    return {
        "newest_event_date": event_day,
        "newest_ingest_date": min(t["newest_ingest_date"] for t in telemetry),
        "build_finished": record.finished_at[:16].replace("T", " ") + " UTC",
        "test_result": f"All {tests} tests passed",
        "rows_quarantined_newest_day": quarantined,
    }


@pytest.fixture
def strip(superset_live):
    """Reads the strip chart's row through /api/v1/chart/data, as a dashboard does."""
    client = superset_live.client()
    queries = [
        q for q in chart_queries(client, load_bundle(settings.DASHBOARDS_DIR)) if q.chart == STRIP
    ]
    assert len(queries) == 5  # one strip on every dashboard

    def read() -> dict[str, Any]:
        response = client.chart_data({**queries[0].payload, "force": True})
        assert response.status_code == 200, response.text
        (row,) = response.json()["result"][0]["data"]
        return row

    return read


def test_the_strip_shows_the_published_build_and_its_staleness(
    strip, superset_live, built_warehouse, monkeypatch
):
    """The test fleet's newest row is months old: fresh only under a generous limit."""
    served = superset_live.warehouse
    expected = expected_strip(built_warehouse)
    try:
        monkeypatch.setenv(STALE_AFTER_ENV, str(24 * 365 * 50))
        publish(built_warehouse.path, served, built_warehouse.manifest)
        row = strip()
        assert row["freshness"].startswith("Fresh: newest row "), row["freshness"]
        assert row["freshness"].endswith(f"(stale after {24 * 365 * 50} h)")
        assert _day(row["newest_event_date"]) == expected["newest_event_date"]
        assert _day(row["newest_ingest_date"]) == expected["newest_ingest_date"]
        for column in ("build_finished", "test_result", "rows_quarantined_newest_day"):
            assert row[column] == expected[column], column

        # The same build under the default limit: its data is older than 36 hours.
        monkeypatch.delenv(STALE_AFTER_ENV)
        publish(built_warehouse.path, served, built_warehouse.manifest)
        row = strip()
        assert row["freshness"].startswith("STALE: newest row "), row["freshness"]
        assert row["freshness"].endswith(f"(stale after {DEFAULT_STALE_AFTER_HOURS:g} h)")
        assert row["test_result"] == expected["test_result"]
    finally:
        monkeypatch.delenv(STALE_AFTER_ENV, raising=False)
        publish(built_warehouse.path, served, built_warehouse.manifest)


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_stale_limit_that_is_no_positive_number_is_refused(value, monkeypatch, tmp_path):
    monkeypatch.setenv(STALE_AFTER_ENV, value)
    with pytest.raises(PublishError, match=f"^{STALE_AFTER_ENV}="):
        publish(tmp_path / "build.duckdb", tmp_path / "serving.duckdb", tmp_path / "m.json")
