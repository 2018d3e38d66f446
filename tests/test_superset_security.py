"""The served suite as an attacker and as each role sees it, over HTTP on the session's Superset.

Users of every role are created once (tests/superset_fixtures.py); each test here
is an attack or a promise of security/roles.yml that fails if the hole reopens.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import yaml
from sqlalchemy import create_engine, text

from access_analytics.superset import settings
from access_analytics.superset.assets import load_bundle
from access_analytics.superset.client import SupersetClient, SupersetError
from access_analytics.superset.operations import chart_queries
from access_analytics.superset.security import (
    DUCKDB_LOCKDOWN,
    ROLES_FILE,
    apply_security,
    set_admin_password,
)
from access_analytics.warehouse import restricted_path

RESTRICTED_DB = "Restricted identities"
WAREHOUSE_DB = "Access warehouse"


def attacks(tmp: Path, other_duckdb: Path) -> dict[str, str]:
    """Every statement that must fail on a Superset DuckDB connection, and touch no file."""
    parquet = tmp / "real.parquet"
    duckdb.sql(f"copy (select 42 as answer) to '{parquet}' (format parquet)")
    return {
        "read_csv": "select * from read_csv('/etc/passwd')",
        "read_parquet": f"select * from read_parquet('{parquet}')",
        "read_text": f"select content from read_text('{settings.REPO_ROOT / 'README.md'}')",
        "glob": "select * from glob('/root/*')",
        "copy_to": f"copy (select 1 as x) to '{tmp / 'copied.csv'}'",
        "export_database": f"export database '{tmp / 'exported'}'",
        "attach": f"attach '{other_duckdb}' as other",
        "install": "install sqlite",
        "load": "load sqlite",
        "set": "set threads = 1",
        "reset": "reset threads",
        "set_external_access": "set enable_external_access = true",
    }


def files_untouched(tmp: Path) -> bool:
    return not (tmp / "copied.csv").exists() and not (tmp / "exported").exists()


@pytest.fixture(scope="module")
def admin(superset_live) -> SupersetClient:
    return superset_live.client()


@pytest.fixture(scope="module")
def database_ids(admin) -> dict[str, int]:
    return {row["database_name"]: row["id"] for row in admin.get("/api/v1/database/")["result"]}


@pytest.fixture(scope="module")
def users(superset_live) -> dict[str, SupersetClient]:
    return {name: superset_live.client_as(name) for name in ("viewer", "viewer_eu", "analyst")}


def execute(client: SupersetClient, database_id: int, sql: str, schema: str = "marts"):
    return client.session.post(
        f"{client.base_url}/api/v1/sqllab/execute/",
        json={"database_id": database_id, "sql": sql, "schema": schema, "runAsync": False},
        timeout=60,
    )


def succeeded(response: requests.Response) -> bool:
    return response.status_code == 200 and response.json().get("status") == "success"


# --- anonymous ----------------------------------------------------------------------


def test_anonymous_gets_nothing(superset_live):
    url = superset_live.url
    for path in ("/api/v1/dashboard/", "/api/v1/chart/", "/api/v1/database/"):
        assert requests.get(url + path, timeout=30).status_code == 401, path
    for path in ("/superset/dashboard/1/", "/sqllab/", "/explore/"):
        response = requests.get(url + path, timeout=30, allow_redirects=False)
        assert response.status_code in (302, 401), path
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], path
    response = requests.post(url + "/api/v1/sqllab/execute/", json={"sql": "select 1"}, timeout=30)
    assert response.status_code in (400, 401)


# --- viewer -------------------------------------------------------------------------


def test_viewer_loads_every_dashboard_and_chart(admin, users):
    viewer = users["viewer"]
    bundle = load_bundle(settings.DASHBOARDS_DIR)
    for dashboard in bundle.of("dashboards").values():
        slug = dashboard["slug"]
        assert viewer.get(f"/api/v1/dashboard/{slug}")["result"]["slug"] == slug
        assert viewer.get(f"/api/v1/dashboard/{slug}/charts")["result"]
    failures = []
    for query in chart_queries(admin, bundle):
        response = viewer.chart_data(query.payload)
        if response.status_code != 200 or not response.json()["result"][0]["rowcount"]:
            failures.append(f"{query.chart}: HTTP {response.status_code}")
    assert not failures, failures


def test_viewer_cannot_query_explore_or_change_anything(admin, users, database_ids):
    viewer = users["viewer"]
    base = viewer.base_url
    assert execute(viewer, database_ids[WAREHOUSE_DB], "select 1").status_code == 403
    ids = {
        resource: admin.list_all(resource, ["id"])[0]["id"]
        for resource in ("chart", "dataset", "dashboard", "database")
    }
    for resource, some_id in ids.items():
        created = viewer.session.post(f"{base}/api/v1/{resource}/", json={}, timeout=30)
        assert created.status_code == 403, f"create {resource}: {created.status_code}"
        edited = viewer.session.put(f"{base}/api/v1/{resource}/{some_id}", json={}, timeout=30)
        assert edited.status_code == 403, f"edit {resource}: {edited.status_code}"
        removed = viewer.session.delete(f"{base}/api/v1/{resource}/{some_id}", timeout=30)
        assert removed.status_code == 403, f"delete {resource}: {removed.status_code}"
    restricted = viewer.session.get(
        f"{base}/api/v1/database/{database_ids[RESTRICTED_DB]}", timeout=30
    )
    assert restricted.status_code in (403, 404)
    assert viewer.session.get(f"{base}/api/v1/dataset/", timeout=30).status_code == 403
    explore = viewer.session.get(f"{base}/api/v1/explore/?slice_id=1", timeout=30)
    assert explore.status_code == 403


# --- regional viewer ----------------------------------------------------------------


def with_region(payload: dict[str, Any], region: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    query = changed["queries"][0]
    query["filters"] = [f for f in query["filters"] if f["col"] != "region"]
    query["filters"].append({"col": "region", "op": "IN", "val": [region]})
    return changed


def rows(client: SupersetClient, payload: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.chart_data(payload)
    assert response.status_code == 200, response.text[:300]
    return sorted(response.json()["result"][0]["data"], key=repr)


def test_a_regional_viewer_sees_only_its_region(admin, users):
    viewer_eu = users["viewer_eu"]
    bundle = load_bundle(settings.DASHBOARDS_DIR)
    regional = {
        dataset["table_name"]
        for dataset in bundle.of("datasets").values()
        if "region" in {c["column_name"] for c in dataset["columns"]}
    }
    datasets = admin.list_all("dataset", ["id", "table_name"])
    table_of = {row["id"]: row["table_name"] for row in datasets}
    checked = 0
    for query in chart_queries(admin, bundle):
        if table_of[query.payload["datasource"]["id"]] not in regional:
            continue
        # The viewer's own rows, whatever the filter asks, are EU rows...
        for row in rows(viewer_eu, query.payload):
            assert row.get("region", "EU") == "EU", f"{query.chart}: {row}"
        # ...equal to the fleet's EU rows (hence the same totals)...
        eu = rows(admin, with_region(query.payload, "EU"))
        assert rows(viewer_eu, with_region(query.payload, "EU")) == eu, query.chart
        # ...and asking for another region returns nothing.
        assert rows(viewer_eu, with_region(query.payload, "NA")) == [], query.chart
        checked += 1 if eu else 0
    assert checked >= 10


# --- analyst and engineer -----------------------------------------------------------


def test_the_analyst_queries_the_marts_in_sql_lab(users, database_ids):
    response = execute(
        users["analyst"],
        database_ids[WAREHOUSE_DB],
        "select count(*) as n from marts.mart_unlock_daily_by_slice",
    )
    assert succeeded(response), response.text[:300]
    assert response.json()["data"][0]["n"] > 0


def test_every_file_extension_and_setting_statement_fails(
    users, database_ids, superset_live, tmp_path
):
    other = restricted_path(superset_live.warehouse)
    before = other.stat().st_mtime_ns
    analyst = users["analyst"]
    for name, sql in attacks(tmp_path, other).items():
        response = execute(analyst, database_ids[WAREHOUSE_DB], sql)
        assert not succeeded(response), f"{name} succeeded in SQL Lab: {response.text[:300]}"
        assert response.status_code >= 400, name
    assert files_untouched(tmp_path)
    assert other.stat().st_mtime_ns == before


def test_chart_sql_cannot_read_files(users, admin, superset_live):
    """Chart data with a custom SQL column: Superset refuses sub-queries, DuckDB refuses files."""
    query = chart_queries(admin, load_bundle(settings.DASHBOARDS_DIR))[0]
    for sql in (
        "(select count(*) from read_csv('/etc/passwd'))",
        f"(select count(*) from read_text('{settings.REPO_ROOT / 'README.md'}'))",
        "(select count(*) from glob('/root/*'))",
    ):
        payload = copy.deepcopy(query.payload)
        payload["queries"][0]["columns"] = [
            {"expressionType": "SQL", "sqlExpression": sql, "label": "x"}
        ]
        payload["queries"][0]["metrics"] = []
        for client in (users["analyst"], admin):
            response = client.chart_data(payload)
            assert response.status_code >= 400, f"{sql}: {response.text[:300]}"


def test_the_duckdb_connection_itself_is_locked(superset_live, tmp_path):
    """Below Superset's own guards: the engine settings of every connection refuse them all."""
    path = Path(settings.DASHBOARDS_DIR, "databases", "access_warehouse.yaml")
    connect_args = yaml.safe_load(path.read_text())["extra"]["engine_params"]["connect_args"]
    assert connect_args == DUCKDB_LOCKDOWN
    other = restricted_path(superset_live.warehouse)
    engine = create_engine(f"duckdb:///{superset_live.warehouse}", connect_args=connect_args)
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from marts.mart_unlock_daily")).scalar()
        for name, sql in attacks(tmp_path, other).items():
            with pytest.raises(Exception) as raised:
                connection.execute(text(sql))
            assert re.search(r"Permission|locked|read-only|disabled", str(raised.value)), name
    engine.dispose()
    assert files_untouched(tmp_path)


def test_the_restricted_model_is_invisible_to_the_analyst(users, database_ids):
    analyst = users["analyst"]
    base = analyst.base_url
    listed = {row["database_name"] for row in analyst.get("/api/v1/database/")["result"]}
    assert listed == {WAREHOUSE_DB}
    schemas = analyst.get(f"/api/v1/database/{database_ids[WAREHOUSE_DB]}/schemas/")["result"]
    assert not [s for s in schemas if "restricted" in s or "staging" in s]
    restricted_schemas = analyst.session.get(
        f"{base}/api/v1/database/{database_ids[RESTRICTED_DB]}/schemas/", timeout=30
    )
    assert restricted_schemas.status_code in (403, 404)
    sql = "select * from restricted.restricted_vehicle_identities"
    assert not succeeded(execute(analyst, database_ids[RESTRICTED_DB], sql, "restricted"))
    assert not succeeded(execute(analyst, database_ids[WAREHOUSE_DB], sql))


def test_the_engineer_queries_the_restricted_model(superset_live, database_ids):
    engineer = superset_live.client_as("engineer")
    response = execute(
        engineer,
        database_ids[RESTRICTED_DB],
        "select count(*) as n from restricted.restricted_vehicle_identities",
        "restricted",
    )
    assert succeeded(response), response.text[:300]
    assert response.json()["data"][0]["n"] > 0


# --- roles as code -------------------------------------------------------------------


def test_apply_twice_changes_nothing_and_removes_what_the_file_drops(
    superset_live, users, tmp_path
):
    env, serving = superset_live.env, superset_live.warehouse
    assert apply_security(env, serving) == []
    viewer = users["viewer"]
    css = f"{viewer.base_url}/api/v1/css_template/"
    assert viewer.session.get(css, timeout=30).status_code == 200
    spec = yaml.safe_load(ROLES_FILE.read_text())
    spec["roles"]["Fleet Viewer"]["permissions"].remove(["can_read", "CssTemplate"])
    reduced = tmp_path / "roles.yml"
    reduced.write_text(yaml.safe_dump(spec))
    try:
        changes = apply_security(env, serving, reduced)
        assert any("Fleet Viewer:" in c and "CssTemplate" in c for c in changes)
        assert viewer.session.get(css, timeout=30).status_code == 403
    finally:
        apply_security(env, serving)
    assert viewer.session.get(css, timeout=30).status_code == 200


# --- login ---------------------------------------------------------------------------


def test_wrong_logins_are_throttled_on_both_login_endpoints(superset_live):
    url = superset_live.url
    api_statuses = [
        requests.post(
            f"{url}/api/v1/security/login",
            json={"username": "mallory", "password": f"guess-{i}", "provider": "db"},
            timeout=30,
        ).status_code
        for i in range(20)
    ]
    assert 429 in api_statuses and set(api_statuses) <= {401, 429}
    assert api_statuses[-1] == 429
    form = requests.Session()
    form_statuses = []
    for i in range(20):
        page = form.get(f"{url}/login/", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = {"username": "mallory-form", "password": f"guess-{i}"}
        if token:
            data["csrf_token"] = token.group(1)
        form_statuses.append(
            form.post(f"{url}/login/", data=data, timeout=30, allow_redirects=False).status_code
        )
    assert form_statuses[-1] == 429, form_statuses
    # Counted per account: the attacker's failures do not lock out the real users.
    assert superset_live.client_as("analyst")


def test_the_session_cookie_is_http_only_and_same_site(superset_live):
    response = requests.get(f"{superset_live.url}/login/", timeout=30)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_admin_password_rotates(superset_live):
    old = superset_live.password
    new = "rotated-" + old
    set_admin_password(superset_live.env, new)
    try:
        assert SupersetClient(superset_live.url, "admin", new)
        with pytest.raises(SupersetError, match="HTTP 401"):
            SupersetClient(superset_live.url, "admin", old)
    finally:
        set_admin_password(superset_live.env, old)
    assert superset_live.client()
