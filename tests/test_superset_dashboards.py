"""The dashboards in a real Superset: import, query every chart, re-import, export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from access_analytics.superset import settings
from access_analytics.superset.assets import AssetError, load_bundle, read_tree
from access_analytics.superset.client import SupersetError
from access_analytics.superset.operations import (
    chart_queries,
    export_dashboards,
    import_dashboards,
)

RESOURCES = ("dashboard", "chart", "dataset", "database")


def inventory(client) -> dict[str, list[str]]:
    return {
        resource: sorted(str(row["uuid"]) for row in client.list_all(resource, ["uuid"]))
        for resource in RESOURCES
    }


@pytest.fixture(scope="module")
def imported(superset_live):
    client = superset_live.client()
    bundle = import_dashboards(client, settings.DASHBOARDS_DIR, superset_live.database_uri)
    return client, bundle


def test_import_creates_every_dashboard_chart_and_dataset(imported):
    client, bundle = imported
    found = inventory(client)
    assert len(found["dashboard"]) == len(bundle.of("dashboards")) == 5
    assert found["chart"] == sorted(bundle.by_uuid("charts"))
    assert found["dataset"] == sorted(bundle.by_uuid("datasets"))
    # The dashboards' one connection, plus the restricted one that security/roles.yml adds.
    assert sorted(bundle.by_uuid("databases")) == [
        uuid for uuid in found["database"] if uuid in bundle.by_uuid("databases")
    ]
    assert len(found["database"]) == 2


def test_every_chart_query_returns_rows(imported):
    client, bundle = imported
    queries = chart_queries(client, bundle)
    assert len(queries) == sum(
        1
        for d in bundle.of("dashboards").values()
        for n in d["position"].values()
        if isinstance(n, dict) and n.get("type") == "CHART"
    )
    failures = []
    for query in queries:
        response = client.chart_data(query.payload)
        if response.status_code != 200:
            failures.append(f"{query.dashboard} / {query.chart}: HTTP {response.status_code}")
            continue
        result = response.json()["result"][0]
        if not result.get("rowcount"):
            failures.append(f"{query.dashboard} / {query.chart}: no rows")
    assert not failures, "\n".join(failures)


def test_reimport_changes_and_duplicates_nothing(imported, superset_live):
    client, _ = imported
    before_inventory, before_export = inventory(client), export_dashboards(client)
    import_dashboards(client, settings.DASHBOARDS_DIR, superset_live.database_uri)
    assert inventory(client) == before_inventory
    assert export_dashboards(client) == before_export


def test_normalized_export_equals_the_files_in_git(imported):
    client, _ = imported
    exported = export_dashboards(client)
    in_git = read_tree(settings.DASHBOARDS_DIR)
    assert sorted(exported) == sorted(in_git)
    for name, text in exported.items():
        assert text == in_git[name], f"{name} differs from its export"


def test_an_invalid_bundle_imports_nothing(imported, superset_live, tmp_path):
    client, _ = imported
    before = inventory(client)
    broken = tmp_path / "dashboards"
    shutil.copytree(settings.DASHBOARDS_DIR, broken)
    # A new chart that passes our validation but that Superset rejects (the title
    # must be a string): the whole bundle is one transaction, so nothing lands.
    chart_file = sorted((broken / "charts").glob("*.yaml"))[0]
    chart = yaml.safe_load(chart_file.read_text())
    chart["uuid"] = "00000000-0000-4000-8000-000000000001"
    chart["slice_name"] = "A chart that must not appear"
    (broken / "charts" / "new_chart.yaml").write_text(yaml.safe_dump(chart))
    dashboard_file = sorted((broken / "dashboards").glob("*.yaml"))[0]
    dashboard = yaml.safe_load(dashboard_file.read_text())
    dashboard["dashboard_title"] = ["not", "a", "string"]
    dashboard_file.write_text(yaml.safe_dump(dashboard))
    with pytest.raises(SupersetError):
        import_dashboards(client, broken, superset_live.database_uri)
    assert inventory(client) == before


def test_a_dangling_reference_is_refused_before_anything_is_sent(tmp_path):
    broken = tmp_path / "dashboards"
    shutil.copytree(settings.DASHBOARDS_DIR, broken)
    victim = sorted((broken / "datasets").rglob("*.yaml"))[0]
    victim.unlink()
    with pytest.raises(AssetError, match=r"charts/.*\.yaml: key 'dataset_uuid'"):
        load_bundle(broken)


def test_the_database_uri_in_git_holds_no_secret():
    for path in Path(settings.DASHBOARDS_DIR, "databases").glob("*.yaml"):
        database = yaml.safe_load(path.read_text())
        assert "@" not in database["sqlalchemy_uri"]
        assert not database.get("password")
