"""Offline checks of dashboards/ against the dbt manifest, and the sync of dbt
exposures and dataset descriptions from it.

A chart that uses a column, metric or dataset the marts no longer have would
only fail when someone opens it; this check fails CI instead, with the file
and the name that broke.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from access_analytics.superset.assets import AssetError, Bundle, slugify
from access_analytics.warehouse import BUILD_INFO_COLUMNS

# Words of metric SQL that are not column names. Metrics may only sum, count
# and divide mart columns (metrics are defined once, in dbt: see
# docs/metrics.md#dashboards-and-slicing).
ALLOWED_FUNCTIONS = {"sum", "count", "nullif", "cast", "coalesce"}
SQL_WORDS = {
    "as",
    "double",
    "float",
    "distinct",
    "null",
    "and",
    "or",
    "not",
    "case",
    "when",
    "then",
    "else",
    "end",
    "is",
    "in",
    "true",
    "false",
    "bigint",
    "integer",
    "decimal",
}
COLUMN_PARAMS = ("groupby", "columns", "all_columns", "series", "entity")
METRIC_PARAMS = (
    "metrics",
    "metric",
    "metric_2",
    "percent_metrics",
    "timeseries_limit_metric",
    "secondary_metric",
    "size",
    "x",
    "y",
)


@dataclass(frozen=True)
class MartModel:
    name: str
    unique_id: str
    description: str
    columns: dict[str, str]


def load_marts(manifest_path: Path) -> dict[str, MartModel]:
    """Models in the `marts` schema of a dbt manifest, by relation name."""
    if not manifest_path.exists():
        raise AssetError(f"{manifest_path}: no dbt manifest (run `dbt parse` first)")
    manifest = json.loads(manifest_path.read_text())
    marts: dict[str, MartModel] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("schema") != "marts":
            continue
        name = node.get("alias") or node["name"]
        columns = {c: v.get("description", "") for c, v in node.get("columns", {}).items()}
        marts[name] = MartModel(name, node["unique_id"], node.get("description", ""), columns)
    return marts


def _identifiers(sql: str) -> list[str]:
    cleaned = re.sub(r"'[^']*'", "", sql)
    return re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()", cleaned)


def _functions(sql: str) -> list[str]:
    return [f.lower() for f in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", sql)]


def _check_sql(sql: str, columns: set[str], where: str) -> list[str]:
    problems = [
        f"{where}: function '{fn}' is not allowed (only {sorted(ALLOWED_FUNCTIONS)})"
        for fn in _functions(sql)
        if fn not in ALLOWED_FUNCTIONS
    ]
    for word in _identifiers(sql):
        if word.lower() in SQL_WORDS or word.lower() in ALLOWED_FUNCTIONS:
            continue
        if word not in columns:
            problems.append(f"{where}: column '{word}' does not exist in the dataset")
    return problems


def build_info_columns(sql: str) -> list[str]:
    """The columns a virtual dataset's SQL returns when it reads only main.build_info.

    Run on an empty build_info of the publish's schema (warehouse.BUILD_INFO_COLUMNS),
    in a DuckDB that has nothing else: a mart, a file or any other relation fails.
    """
    with duckdb.connect(":memory:") as con:
        con.execute("set enable_external_access = false")
        columns = ", ".join(f'"{name}" {kind}' for name, (kind, _) in BUILD_INFO_COLUMNS.items())
        con.execute(f"create table main.build_info ({columns})")
        con.execute("set lock_configuration = true")
        cursor = con.execute(f"select * from ({sql}) as virtual_table limit 0")
        return [column[0] for column in cursor.description]


def _check_virtual_dataset(name: str, dataset: dict[str, Any]) -> list[str]:
    """A virtual dataset may only read main.build_info (the served build's freshness)."""
    try:
        returned = build_info_columns(dataset["sql"])
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        return [f"{name}: sql: does not run on main.build_info alone: {first_line}"]
    declared = {c["column_name"] for c in dataset["columns"] if not c.get("expression")}
    problems = [
        f"{name}: columns: '{column}' is not returned by the dataset's sql"
        for column in sorted(declared - set(returned))
    ]
    problems += [
        f"{name}: columns: '{column}' of the sql is not declared"
        for column in returned
        if column not in declared
    ]
    return problems


def _param_columns(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def _order_columns(params: dict[str, Any]) -> list[str]:
    """Raw tables keep their sort as JSON strings: '["column", ascending]'."""
    return [json.loads(item)[0] for item in params.get("order_by_cols") or []]


def check_bundle(bundle: Bundle, marts: dict[str, MartModel]) -> list[str]:
    """Every problem found, as 'file: key: message'."""
    problems: list[str] = []
    dataset_columns: dict[str, set[str]] = {}
    dataset_metrics: dict[str, set[str]] = {}
    for name, dataset in bundle.of("datasets").items():
        table = dataset["table_name"]
        mart = marts.get(table)
        if dataset.get("sql"):
            if table in marts:
                problems.append(f"{name}: table_name: '{table}' is a mart: use the table itself")
            problems += _check_virtual_dataset(name, dataset)
        elif dataset.get("schema") != "marts" or mart is None:
            problems.append(f"{name}: table_name: '{table}' is not a model of the marts schema")
            mart_columns: set[str] = set()
        else:
            mart_columns = set(mart.columns)
            for column in dataset["columns"]:
                if column["column_name"] not in mart_columns and not column.get("expression"):
                    problems.append(
                        f"{name}: columns: '{column['column_name']}' is not a column of {table}"
                    )
        columns = {c["column_name"] for c in dataset["columns"]}
        dataset_columns[str(dataset["uuid"])] = columns
        dataset_metrics[str(dataset["uuid"])] = {m["metric_name"] for m in dataset["metrics"]}
        for metric in dataset["metrics"]:
            problems += _check_sql(
                metric["expression"], columns, f"{name}: metrics.{metric['metric_name']}"
            )
    for name, chart in bundle.of("charts").items():
        uuid = str(chart["dataset_uuid"])
        columns = dataset_columns.get(uuid, set())
        metrics = dataset_metrics.get(uuid, set())
        params = chart["params"]
        for key in (*COLUMN_PARAMS, "x_axis", "granularity_sqla"):
            for column in _param_columns(params.get(key)):
                if column not in columns:
                    problems.append(f"{name}: params.{key}: column '{column}' does not exist")
        for column in _order_columns(params):
            if column not in columns:
                problems.append(f"{name}: params.order_by_cols: column '{column}' does not exist")
        for key in METRIC_PARAMS:
            value = params.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item not in metrics:
                    problems.append(f"{name}: params.{key}: metric '{item}' does not exist")
                elif isinstance(item, dict):
                    column = (item.get("column") or {}).get("column_name")
                    if column and column not in columns:
                        problems.append(f"{name}: params.{key}: column '{column}' does not exist")
                    if item.get("sqlExpression"):
                        problems += _check_sql(
                            item["sqlExpression"], columns, f"{name}: params.{key}"
                        )
        for flt in params.get("adhoc_filters", []):
            subject = flt.get("subject")
            if flt.get("expressionType") == "SIMPLE" and subject not in columns:
                problems.append(f"{name}: params.adhoc_filters: column '{subject}' does not exist")
    charts = bundle.by_uuid("charts")
    for name, dashboard in bundle.of("dashboards").items():
        for key, node in dashboard["position"].items():
            chart_node = isinstance(node, dict) and node.get("type") == "CHART"
            if chart_node and str(node["meta"].get("uuid")) not in charts:
                problems.append(f"{name}: position.{key}: chart does not resolve")
        for flt in dashboard["metadata"].get("native_filter_configuration", []):
            for target in flt.get("targets", []):
                if "datasetUuid" not in target:
                    continue  # a date-range filter targets each chart's time column
                uuid = str(target["datasetUuid"])
                column = (target.get("column") or {}).get("name")
                if uuid not in dataset_columns:
                    problems.append(
                        f"{name}: native filter '{flt['name']}': dataset does not resolve"
                    )
                elif column and column not in dataset_columns[uuid]:
                    problems.append(
                        f"{name}: native filter '{flt['name']}': column '{column}' does not exist"
                    )
    return problems


# --- exposures and descriptions -------------------------------------------------------


def dashboard_marts(bundle: Bundle) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """For each dashboard (by slug): its content and the marts its charts and filters read.

    A virtual dataset reads the served build_info, which publishing always writes and
    no dbt model is: it is not an exposure's dependency.
    """
    datasets = {
        uuid: c["table_name"]
        for uuid, (_, c) in bundle.by_uuid("datasets").items()
        if not c.get("sql")
    }
    charts = {
        uuid: str(c["dataset_uuid"])
        for uuid, (_, c) in bundle.by_uuid("charts").items()
        if str(c["dataset_uuid"]) in datasets
    }
    result: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for dashboard in bundle.of("dashboards").values():
        tables = {
            datasets[charts[str(node["meta"]["uuid"])]]
            for node in dashboard["position"].values()
            if isinstance(node, dict)
            and node.get("type") == "CHART"
            and str(node["meta"].get("uuid")) in charts
        }
        for flt in dashboard["metadata"].get("native_filter_configuration", []):
            for target in flt.get("targets", []):
                if str(target.get("datasetUuid")) in datasets:
                    tables.add(datasets[str(target["datasetUuid"])])
        result[slugify(dashboard["dashboard_title"])] = (dashboard, sorted(tables))
    return result


def expected_exposures(bundle: Bundle, base_url: str = "http://localhost:8088") -> str:
    exposures = []
    for slug, (dashboard, tables) in sorted(dashboard_marts(bundle).items()):
        exposures.append(
            {
                "name": slug,
                "label": dashboard["dashboard_title"],
                "type": "dashboard",
                "maturity": "high",
                "url": f"{base_url}/superset/dashboard/{dashboard.get('slug') or slug}/",
                "description": (dashboard.get("description") or "").strip(),
                "depends_on": [f"ref('{table}')" for table in tables],
                "owner": {"name": "Access Controls analytics"},
            }
        )
    header = (
        "# Generated by `access-analytics dashboards sync` from dashboards/: one exposure\n"
        "# per Superset dashboard. `access-analytics dashboards check` fails when it drifts.\n"
    )
    body = yaml.safe_dump({"version": 2, "exposures": exposures}, sort_keys=False, width=100)
    return header + body


def sync_descriptions(bundle: Bundle, marts: dict[str, MartModel]) -> dict[str, dict[str, Any]]:
    """Datasets whose descriptions differ from the dbt docs, with the docs applied."""
    changed: dict[str, dict[str, Any]] = {}
    for name, dataset in bundle.of("datasets").items():
        mart = marts.get(dataset["table_name"])
        if mart is None:
            continue
        updated = dict(dataset)
        updated["description"] = mart.description.strip() or None
        updated["columns"] = [
            {**c, "description": (mart.columns.get(c["column_name"]) or "").strip() or None}
            if c["column_name"] in mart.columns
            else c
            for c in dataset["columns"]
        ]
        if updated != dataset:
            changed[name] = updated
    return changed


def run_check(directory: Path, manifest_path: Path, exposures_path: Path) -> list[str]:
    from access_analytics.superset.assets import load_bundle

    bundle = load_bundle(directory)
    marts = load_marts(manifest_path)
    problems = check_bundle(bundle, marts)
    for name in sync_descriptions(bundle, marts):
        problems.append(
            f"{name}: description: differs from the dbt docs "
            "(run `access-analytics dashboards sync`)"
        )
    expected = expected_exposures(bundle)
    if not exposures_path.exists() or exposures_path.read_text() != expected:
        problems.append(
            f"{exposures_path.name}: exposures: out of sync with dashboards/ "
            "(run `access-analytics dashboards sync`)"
        )
    return problems
