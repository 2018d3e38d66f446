"""Every dashboard in headless Chromium: all charts render, none errors or is empty.

Writes the screenshots shown in the README (docs/screenshots/), and each dashboard's
opening time (navigation to every chart rendered, with how many chart queries the
cache answered) to var/browser/opening_times.json and the terminal: a measure to
read, never a timed assertion.
"""

from __future__ import annotations

import json
import statistics

import pytest

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.browser import (
    BrowserError,
    chromium,
    chromium_executable,
    dashboard_pages,
    login,
    open_dashboard,
)
from access_analytics.superset.operations import import_dashboards
from access_analytics.superset.server import free_port

pytest.importorskip("playwright.sync_api")

SCREENSHOTS = settings.REPO_ROOT / "docs" / "screenshots"
OPENING_TIMES = settings.REPO_ROOT / "var" / "browser" / "opening_times.json"


@pytest.fixture(scope="module")
def browser(superset_live):
    try:
        chromium_executable()
    except BrowserError as exc:
        pytest.fail(f"{exc}: the browser tests need it")
    import_dashboards(superset_live.client(), settings.DASHBOARDS_DIR, superset_live.database_uri)
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def page(browser, superset_live):
    live = superset_live
    return login(browser, live.url, live.username, live.password), live.url


@pytest.fixture(scope="module")
def opening_times():
    """Each dashboard's opening time, written out once every dashboard was opened."""
    times: dict[str, dict] = {}
    yield times
    if not times:
        return
    seconds = [entry["seconds"] for entry in times.values()]
    report = {
        "dashboards": times,
        "median_seconds": round(statistics.median(seconds), 3),
        "worst_seconds": round(max(seconds), 3),
    }
    OPENING_TIMES.parent.mkdir(parents=True, exist_ok=True)
    OPENING_TIMES.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"\nopening times (navigation to every chart rendered), {OPENING_TIMES}:")
    for slug, entry in sorted(times.items()):
        print(
            f"  {slug}: {entry['seconds']:.2f} s, {entry['cached_queries']} of"
            f" {entry['chart_queries']} chart queries from the cache"
        )
    print(f"  median {report['median_seconds']:.2f} s, worst {report['worst_seconds']:.2f} s")


@pytest.mark.parametrize(
    "dashboard", dashboard_pages(load_bundle(settings.DASHBOARDS_DIR)), ids=lambda d: d.slug
)
def test_dashboard_renders_every_chart(page, opening_times, dashboard):
    tab, url = page
    opening = open_dashboard(tab, url, dashboard)
    opening_times[dashboard.slug] = {
        "seconds": round(opening.seconds, 3),
        "charts": dashboard.charts,
        "chart_queries": opening.chart_queries,
        "cached_queries": opening.cached_queries,
    }
    tab.evaluate("window.scrollTo(0, 0)")
    # Let ECharts finish its entry animation before the screenshot.
    tab.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{dashboard.slug}.png"), full_page=True)
    assert opening.ok, f"{dashboard.title}:\n" + "\n".join(map(str, opening.problems))


def test_a_refused_login_fails_at_once_and_says_so(browser, superset_live):
    """A wrong password is a refusal, not a page to wait for: no retry, a one-line reason.
    (An account of its own, so that the failed-login limit of the others is untouched.)"""
    with pytest.raises(BrowserError, match="was refused") as refused:
        login(browser, superset_live.url, "nobody-" + superset_live.user_password, "wrong")
    assert "; then " not in str(refused.value)


def test_a_login_page_that_never_opens_says_so(browser):
    """Nothing listens on the port: both attempts stop at the login page, and the error
    does not speak of a form that was never sent."""
    with pytest.raises(BrowserError, match="while opening the login page") as unreachable:
        login(browser, f"http://127.0.0.1:{free_port()}", "anyone", "anything")
    assert "POST" not in str(unreachable.value)
    assert str(unreachable.value).count("while opening the login page") == 2
