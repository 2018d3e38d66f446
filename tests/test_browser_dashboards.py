"""Every dashboard in headless Chromium: all charts render, none errors or is empty.

Writes the screenshots shown in the README (docs/screenshots/), and each dashboard's
opening time (navigation to every chart rendered, with how many chart queries the
cache answered) to var/browser/opening_times.json and the terminal: a measure to
read, never a timed assertion.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time

import pytest

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.operations import import_dashboards

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = settings.REPO_ROOT / "docs" / "screenshots"
OPENING_TIMES = settings.REPO_ROOT / "var" / "browser" / "opening_times.json"
# What a rendered chart contains, by kind: ECharts canvas, big number, table.
RENDERED = "canvas, svg, table, .header-line"
EMPTY_OR_ERROR = (
    "[role=alert], .ant-alert-error, [data-test=chart-error], .error-message, "
    "[data-test=emptystate]"
)


def dashboards():
    bundle = load_bundle(settings.DASHBOARDS_DIR)
    return sorted(
        (
            d["slug"],
            d["dashboard_title"],
            sum(
                1
                for n in d["position"].values()
                if isinstance(n, dict) and n.get("type") == "CHART"
            ),
        )
        for d in bundle.of("dashboards").values()
    )


@pytest.fixture(scope="module")
def page(superset_live):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(
            "Debian's chromium is required for the browser tests (apt-get install chromium)"
        )
    import_dashboards(superset_live.client(), settings.DASHBOARDS_DIR, superset_live.database_uri)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        tab = context.new_page()
        tab.goto(f"{superset_live.url}/login/")
        tab.fill("#username", superset_live.username)
        tab.fill("#password", superset_live.password)
        tab.click("button[type=submit]")
        tab.wait_for_url("**/superset/welcome/**", timeout=60_000)
        yield tab, superset_live.url
        browser.close()


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


def _cached_counts(responses: list) -> tuple[int, int]:
    """(chart data queries, of which answered from the cache) among the responses."""
    total = cached = 0
    for response in responses:
        try:
            queries = response.json().get("result", [])
        except Exception:  # a response without a JSON body counts as not cached
            queries = [{}]
        total += len(queries)
        cached += sum(1 for query in queries if query.get("is_cached"))
    return total, cached


@pytest.mark.parametrize(("slug", "title", "charts"), dashboards())
def test_dashboard_renders_every_chart(page, opening_times, slug, title, charts):
    tab, url = page
    responses: list = []

    def record(response) -> None:
        if "/api/v1/chart/data" in response.url and response.request.method == "POST":
            responses.append(response)

    tab.on("response", record)
    start = time.perf_counter()
    tab.goto(f"{url}/superset/dashboard/{slug}/")
    tab.wait_for_selector("[data-test-chart-id]", timeout=60_000)
    holders = tab.locator("[data-test-chart-id]")
    assert holders.count() == charts, f"{title}: {holders.count()} of {charts} charts on the page"
    problems = []
    for index in range(charts):
        holder = holders.nth(index)
        name = holder.get_attribute("data-test-chart-name")
        holder.scroll_into_view_if_needed()
        try:
            holder.locator(f"{RENDERED}, {EMPTY_OR_ERROR}").first.wait_for(timeout=60_000)
        except playwright.TimeoutError:
            problems.append(f"{name}: did not render within 60 s")
            continue
        if holder.locator(EMPTY_OR_ERROR).count():
            text = holder.locator(EMPTY_OR_ERROR).first.inner_text()[:200]
            problems.append(f"{name}: error or empty: {text!r}")
    seconds = time.perf_counter() - start
    tab.remove_listener("response", record)
    queries, cached = _cached_counts(responses)
    opening_times[slug] = {
        "seconds": round(seconds, 3),
        "charts": charts,
        "chart_queries": queries,
        "cached_queries": cached,
    }
    tab.wait_for_load_state("networkidle")
    tab.evaluate("window.scrollTo(0, 0)")
    # Let ECharts finish its entry animation before the screenshot.
    tab.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{slug}.png"), full_page=True)
    assert not problems, f"{title}:\n" + "\n".join(problems)
