"""`access-analytics dashboards warm`: what the command does with a broken chart, a
missing browser and the URL variables, with the browser replaced.

That a warm after a publish leaves every chart in the cache for the next browser is
tested end to end where the daily pipeline runs it (tests/test_airflow_dag.py), with
real Superset and Chromium.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from access_analytics.superset import browser, settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.browser import ChartProblem, Opening, dashboard_pages
from access_analytics.superset.cli import dashboards_app

LINE = re.compile(
    r"^(?P<mark>[✓✗]) (?P<title>.+): (?P<charts>\d+) charts, (?P<queries>\d+) chart queries,"
    r" (?P<cached>\d+) already cached, (?P<seconds>[\d.]+) s$",
    re.MULTILINE,
)
PAGES = dashboard_pages(load_bundle(settings.DASHBOARDS_DIR))
# No URL variable of the caller's environment reaches the command unless a test sets it.
NO_URL = {"SUPERSET_URL": None, "ACCESS_SUPERSET_URL": None}


def _fake_openings(monkeypatch, problems: dict[str, list[ChartProblem]]) -> list[str]:
    """Replace the browser: every dashboard opens at once, with the given problems; the
    URLs it was asked for are returned."""
    urls: list[str] = []

    def open_dashboards(url, username, password, dashboards, each=None):
        urls.append(url)
        openings = []
        for page in dashboards:
            opening = Opening(page, page.charts, 0, 1.0, problems.get(page.slug, []))
            if each is not None:
                each(opening)
            openings.append(opening)
        return openings

    monkeypatch.setattr(browser, "open_dashboards", open_dashboards)
    return urls


def test_warm_fails_naming_each_chart_that_did_not_render(monkeypatch):
    broken = PAGES[0]
    _fake_openings(
        monkeypatch,
        {
            broken.slug: [
                ChartProblem("Unlock latency p95", "error or empty: 'Unexpected error'"),
                ChartProblem("Slow unlocks", "did not render within 60 s"),
            ]
        },
    )
    result = CliRunner().invoke(dashboards_app, ["warm", "--password", "x"], env=NO_URL)
    assert result.exit_code == 1
    lines = {m["title"]: m["mark"] for m in LINE.finditer(result.output)}
    assert lines == {page.title: "✗" if page == broken else "✓" for page in PAGES}
    assert f"✗ {broken.title}: Unlock latency p95: error or empty: 'Unexpected error'" in (
        result.output
    )
    assert "error: 2 chart problem(s), the other charts are warm: " in result.output
    assert f"{broken.title}: Slow unlocks: did not render within 60 s" in result.output
    assert "warmed" not in result.output


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://localhost:8088"),
        ({"ACCESS_SUPERSET_URL": "https://bi.example.com"}, "https://bi.example.com"),
        (
            {"ACCESS_SUPERSET_URL": "https://bi.example.com", "SUPERSET_URL": "http://sup:8088"},
            "http://sup:8088",
        ),
    ],
)
def test_warm_takes_the_url_like_the_other_dashboards_commands(monkeypatch, env, url):
    urls = _fake_openings(monkeypatch, {})
    result = CliRunner().invoke(dashboards_app, ["warm", "--password", "x"], env={**NO_URL, **env})
    assert result.exit_code == 0, result.output
    assert urls == [url]
    assert f"warmed {len(PAGES)} dashboards" in result.output


def test_warm_without_chromium_says_what_to_install(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda _name: None)
    result = CliRunner().invoke(dashboards_app, ["warm", "--password", "x"], env=NO_URL)
    assert result.exit_code == 1
    assert "dashboards not warmed: Debian's chromium is needed" in result.output
    assert "apt-get install chromium" in result.output
