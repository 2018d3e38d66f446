"""Dashboards opened in headless Chromium, exactly as a person opens them.

Shared by `access-analytics dashboards warm` and tests/test_browser_dashboards.py. A
dashboard is open when every chart holder on it (`[data-test-chart-id]`) shows a
rendered chart, an error or an empty state; charts load lazily, so each holder is
scrolled into view. Every `/api/v1/chart/data` response on the way is counted, with
how many of its query results Superset answered from its cache (`is_cached`).

The browser sends the very requests a person's browser sends (native filter defaults,
each chart type's own query building), so the results it leaves in Superset's cache
are the ones the next person's requests find. Chromium is Debian's `chromium`, driven
by the playwright package; playwright's own browser download is not used.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from access_analytics.superset.assets import Bundle

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1000}
# What a rendered chart contains, by kind: ECharts canvas, big number, table.
RENDERED = "canvas, svg, table, .header-line"
EMPTY_OR_ERROR = (
    "[role=alert], .ant-alert-error, [data-test=chart-error], .error-message, "
    "[data-test=emptystate]"
)
CHART_DATA = "/api/v1/chart/data"
TIMEOUT_MS = 60_000


class BrowserError(RuntimeError):
    """The browser could not be started, reach Superset or log in; one line for the user."""


@dataclass(frozen=True)
class DashboardPage:
    """A dashboard of dashboards/ as the browser finds it: its slug and how many charts."""

    slug: str
    title: str
    charts: int


def dashboard_pages(bundle: Bundle) -> list[DashboardPage]:
    """Every dashboard of the bundle, by slug."""
    return sorted(
        (
            DashboardPage(
                dashboard["slug"],
                dashboard["dashboard_title"],
                sum(
                    1
                    for node in dashboard["position"].values()
                    if isinstance(node, dict) and node.get("type") == "CHART"
                ),
            )
            for dashboard in bundle.of("dashboards").values()
        ),
        key=lambda page: page.slug,
    )


@dataclass(frozen=True)
class ChartProblem:
    """A chart that errored, was empty or did not render (chart None: the whole page)."""

    chart: str | None
    problem: str

    def __str__(self) -> str:
        return f"{self.chart}: {self.problem}" if self.chart else self.problem


@dataclass
class Opening:
    """One dashboard opened: seconds from navigation to every chart rendered (or failed)."""

    dashboard: DashboardPage
    chart_queries: int
    cached_queries: int
    seconds: float
    problems: list[ChartProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def chromium_executable() -> str:
    """Debian's Chromium on the PATH (playwright's own download is not used)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise BrowserError(
            "Debian's chromium is needed to open the dashboards (apt-get install chromium)"
        )
    return executable


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:  # a production install without the dev group
        raise BrowserError(
            "the playwright package is needed to open the dashboards (uv sync installs it)"
        ) from exc
    executable = chromium_executable()
    with sync_playwright() as driver:
        try:
            browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Error as exc:
            raise BrowserError(f"{executable} did not start: {_first_line(exc)}") from exc
        try:
            yield browser
        finally:
            browser.close()


def login(browser: Browser, url: str, username: str, password: str) -> Page:
    """A tab of a new browser context (its own cookies), logged in with Superset's form.

    A rejected login (the form answers with a redirect back to /login/, or HTTP 429 past
    the failed-login limit) fails at once. Anything else that stops it, such as a page that
    does not render or a request lost while the machine is busy, is tried once more in a
    fresh context; the error then says what each attempt saw.
    """
    seen = []
    for _attempt in range(2):
        tab, problem, rejected = _login_once(browser, url, username, password)
        if tab is not None:
            return tab
        seen.append(problem)
        if rejected:
            break
    raise BrowserError(f"cannot log in to {url} as {username}: " + "; then ".join(seen))


def _login_once(
    browser: Browser, url: str, username: str, password: str
) -> tuple[Page | None, str, bool]:
    """(the logged-in tab, "", False), or (None, what went wrong, whether it was a refusal)."""
    from playwright.sync_api import Error
    from playwright.sync_api import TimeoutError as Timeout

    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    tab = context.new_page()
    answers: list[Any] = []
    tab.on("response", lambda r: answers.append(r) if _is_login_post(r) else None)
    step = "opening the login page"
    submitted = False
    try:
        page = tab.goto(f"{url}/login/", timeout=TIMEOUT_MS)
        status = page.status if page is not None else None
        step = f"waiting for the login form (page answered HTTP {status})"
        tab.fill("#username", username, timeout=TIMEOUT_MS)
        tab.fill("#password", password, timeout=TIMEOUT_MS)
        step = "waiting for the answer to the form"
        with tab.expect_response(_is_login_post, timeout=TIMEOUT_MS) as posted:
            tab.click("button[type=submit]", timeout=TIMEOUT_MS)
            submitted = True
        if not _refused(posted.value):
            step = "waiting for the welcome page after the form was accepted"
            tab.wait_for_url("**/superset/welcome/**", timeout=TIMEOUT_MS, wait_until="commit")
            return tab, "", False
        problem = "refused"
    except Timeout:
        problem = f"no answer within {TIMEOUT_MS // 1000} s while {step}"
    except Error as exc:
        problem = f"{_first_line(exc)} while {step}"
    context.close()
    if not answers:
        # Only a submitted form can have gone unanswered; before that, the step says it all.
        return None, problem + (" (the form's POST got no answer)" if submitted else ""), False
    answer = answers[-1]
    if answer.status == 429:
        return None, "too many failed logins (HTTP 429): wait a minute", True
    if _refused(answer):
        return None, "the login was refused (wrong user name or password?)", True
    return None, f"{problem} (the form's POST answered HTTP {answer.status})", False


def _is_login_post(response: Any) -> bool:
    return response.request.method == "POST" and "/login" in response.url


def _refused(response: Any) -> bool:
    """Superset's form answers a refused login with a redirect back to /login/ (or 429)."""
    location = response.headers.get("location", "")
    return response.status == 429 or (response.status in (301, 302, 303) and "/login" in location)


def _query_counts(responses: list[Any]) -> tuple[int, int]:
    """(chart data queries, of which answered from the cache) among the responses."""
    total = cached = 0
    for response in responses:
        try:
            queries = response.json().get("result", [])
        except Exception:  # a response without a JSON body counts as one uncached query
            queries = [{}]
        total += len(queries)
        cached += sum(1 for query in queries if query.get("is_cached"))
    return total, cached


def open_dashboard(tab: Page, url: str, dashboard: DashboardPage) -> Opening:
    """Open the dashboard and wait until each of its charts rendered, errored or timed out."""
    from playwright.sync_api import Error
    from playwright.sync_api import TimeoutError as Timeout

    responses: list[Any] = []

    def record(response: Any) -> None:
        if CHART_DATA in response.url and response.request.method == "POST":
            responses.append(response)

    problems: list[ChartProblem] = []
    tab.on("response", record)
    try:
        start = time.perf_counter()
        try:
            tab.goto(f"{url}/superset/dashboard/{dashboard.slug}/")
        except Error as exc:
            raise BrowserError(
                f"cannot open {dashboard.title} at {url}: {_first_line(exc)}"
            ) from exc
        try:
            tab.wait_for_selector("[data-test-chart-id]", timeout=TIMEOUT_MS)
        except Timeout:
            problems.append(
                ChartProblem(None, f"no chart on the page within {TIMEOUT_MS // 1000} s")
            )
        holders = tab.locator("[data-test-chart-id]")
        found = holders.count()
        if not problems and found != dashboard.charts:
            problems.append(ChartProblem(None, f"{found} of {dashboard.charts} charts on the page"))
        for index in range(found):
            holder = holders.nth(index)
            name = holder.get_attribute("data-test-chart-name") or f"chart {index + 1}"
            holder.scroll_into_view_if_needed()
            try:
                holder.locator(f"{RENDERED}, {EMPTY_OR_ERROR}").first.wait_for(timeout=TIMEOUT_MS)
            except Timeout:
                problems.append(ChartProblem(name, f"did not render within {TIMEOUT_MS // 1000} s"))
                continue
            if holder.locator(EMPTY_OR_ERROR).count():
                text = holder.locator(EMPTY_OR_ERROR).first.inner_text()[:200]
                problems.append(ChartProblem(name, f"error or empty: {text!r}"))
        seconds = time.perf_counter() - start
        # A chart that asks again once its filters settled is counted (and cached) too.
        with suppress(Timeout):
            tab.wait_for_load_state("networkidle", timeout=TIMEOUT_MS // 2)
    finally:
        tab.remove_listener("response", record)
    queries, cached = _query_counts(responses)
    return Opening(dashboard, queries, cached, seconds, problems)


def open_dashboards(
    url: str,
    username: str,
    password: str,
    dashboards: Iterable[DashboardPage],
    each: Callable[[Opening], object] | None = None,
) -> list[Opening]:
    """Log in with a fresh browser and open every dashboard in turn (all of them, also
    after one failed); `each` sees every opening as it finishes."""
    url = url.rstrip("/")
    openings = []
    with chromium() as browser:
        tab = login(browser, url, username, password)
        for dashboard in dashboards:
            opening = open_dashboard(tab, url, dashboard)
            if each is not None:
                each(opening)
            openings.append(opening)
    return openings
