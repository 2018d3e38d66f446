"""Offline checks of dashboards/ against the dbt manifest, and the sync of dbt
exposures and dataset descriptions from it.

A chart that uses a column, metric or dataset the marts no longer have would
only fail when someone opens it; this check fails CI instead, with the file
and the name that broke.
It also holds the presentation rules: labels and units, rate axes, legends and
the colours that carry a meaning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from access_analytics.superset.assets import AssetError, Bundle, param_columns, slugify
from access_analytics.warehouse import (
    BUILD_FRESHNESS_VIEW,
    BUILD_INFO_COLUMNS,
    BUILD_INFO_SCHEMA,
    PUBLIC_SCHEMA,
    create_build_freshness,
)

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
COLUMN_PARAMS = (
    "groupby",
    "columns",
    "all_columns",
    "series",
    "entity",
    # the Gantt chart's bars and their tooltip
    "start_time",
    "end_time",
    "y_axis",
    "tooltip_columns",
)
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
    # Values of the columns with an accepted_values test: they bound a chart's series.
    accepted_values: dict[str, list[Any]] = field(default_factory=dict)


def load_marts(manifest_path: Path) -> dict[str, MartModel]:
    """Models in the `marts` schema of a dbt manifest, by relation name."""
    if not manifest_path.exists():
        raise AssetError(f"{manifest_path}: no dbt manifest (run `dbt parse` first)")
    manifest = json.loads(manifest_path.read_text())
    marts: dict[str, MartModel] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("schema") != PUBLIC_SCHEMA:
            continue
        name = node.get("alias") or node["name"]
        columns = {c: v.get("description", "") for c, v in node.get("columns", {}).items()}
        marts[name] = MartModel(name, node["unique_id"], node.get("description", ""), columns)
    by_id = {mart.unique_id: mart for mart in marts.values()}
    for node in manifest["nodes"].values():
        test = node.get("test_metadata") or {}
        mart = by_id.get(node.get("attached_node") or "")
        if test.get("name") == "accepted_values" and mart is not None:
            mart.accepted_values[test["kwargs"]["column_name"]] = test["kwargs"]["values"]
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


def build_freshness_columns() -> list[str]:
    """The columns of the view main.build_freshness, created as publishing creates it,
    over an empty build_info of the publish's schema (warehouse.BUILD_INFO_COLUMNS)."""
    with duckdb.connect(":memory:") as con:
        columns = ", ".join(f'"{name}" {kind}' for name, (kind, _) in BUILD_INFO_COLUMNS.items())
        con.execute(f"create table {BUILD_INFO_SCHEMA}.build_info ({columns})")
        create_build_freshness(con)
        cursor = con.execute(f"select * from {BUILD_INFO_SCHEMA}.{BUILD_FRESHNESS_VIEW} limit 0")
        return [column[0] for column in cursor.description]


def _check_freshness_dataset(name: str, dataset: dict[str, Any]) -> list[str]:
    """The freshness strip's dataset declares exactly the columns of main.build_freshness."""
    returned = build_freshness_columns()
    declared = {c["column_name"] for c in dataset["columns"] if not c.get("expression")}
    problems = [
        f"{name}: columns: '{column}' is not a column of {BUILD_FRESHNESS_VIEW}"
        for column in sorted(declared - set(returned))
    ]
    problems += [
        f"{name}: columns: '{column}' of {BUILD_FRESHNESS_VIEW} is not declared"
        for column in returned
        if column not in declared
    ]
    return problems


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
            # Superset parses and rewrites a SQL dataset's text on every chart query.
            problems.append(
                f"{name}: sql: a SQL dataset is not served: read a mart, or"
                f" {BUILD_INFO_SCHEMA}.{BUILD_FRESHNESS_VIEW} for the build's freshness"
            )
        elif (dataset.get("schema"), table) == (BUILD_INFO_SCHEMA, BUILD_FRESHNESS_VIEW):
            problems += _check_freshness_dataset(name, dataset)
        elif dataset.get("schema") != PUBLIC_SCHEMA or mart is None:
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
            for column in param_columns(params.get(key)):
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
    return problems + presentation_problems(bundle, marts)


# --- presentation: what a manager reads at a glance -------------------------------------

# One colour per meaning on every dashboard (metadata.label_colors). Series of saved
# metrics take the colour of their metric name, grouped series that of their value.
GREEN, AMBER, ORANGE, RED, GREY, BLUE = (
    "#2E7D32",
    "#F9A825",
    "#EF6C00",
    "#C62828",
    "#9E9E9E",
    "#1565C0",
)
HEALTH_BAND_COLORS = {  # in band order, from fine to urgent
    "healthy": GREEN,
    "watch": AMBER,
    "replace_soon": ORANGE,
    "replace_now": RED,
}
BAND_METRICS = {f"fobs_{band}": band for band in HEALTH_BAND_COLORS}
FIRMWARE_STATUS_COLORS = {"regression": RED, "ok": GREEN, "insufficient_data": GREY}
# The rollout monitor's daily status, as its charts show it (in words).
ROLLOUT_STATUS_COLORS = {
    "Regression": RED,
    "OK": GREEN,
    "Monitoring": BLUE,
    "Insufficient data": GREY,
}
SHARED_LABEL_COLORS = {
    **HEALTH_BAND_COLORS,
    **{metric: HEALTH_BAND_COLORS[band] for metric, band in BAND_METRICS.items()},
    **FIRMWARE_STATUS_COLORS,
    **ROLLOUT_STATUS_COLORS,
}
# Table columns whose cells are coloured by value.
VALUE_COLORS = {"health_band": HEALTH_BAND_COLORS, "status": FIRMWARE_STATUS_COLORS}

NUMERIC_TYPES = {"DOUBLE", "FLOAT", "REAL", "DECIMAL"}
# Fixed point with at most two decimals: counts (d), plain numbers (f), percentages (%).
FIXED_FORMAT = re.compile(r"[+-]?,?(\.[0-2])?[df%]")
P_VALUE_FORMAT = re.compile(r"\.3~?[gr]")  # three significant figures
# A unit a plain number's label must name: (ms), (mV), (mV/day), (days) or per 10k.
UNIT_IN_LABEL = re.compile(r"\((ms|mV|mV/day|days)\)|\bper 10k\b")
INTERNAL_WORDING = re.compile(r"\b[A-Za-z0-9]+_[A-Za-z0-9_]+\b|\([^)]*\brow\)")
SHOWN_TEXT_PARAMS = ("x_axis_title", "y_axis_title", "subheader", "compare_suffix")
MAX_PLAIN_LEGEND_SERIES = 6


def _decimals_problem(fmt: str) -> str | None:
    if FIXED_FORMAT.fullmatch(fmt):
        return None
    return f"number format '{fmt}' must be fixed point with at most two decimals"


def _format_problem(label: str, fmt: str | None, is_p_value: bool) -> str | None:
    """Why a number format does not show the value readably with its unit, if it does not."""
    if not fmt:
        return "no number format"
    if is_p_value:
        if P_VALUE_FORMAT.fullmatch(fmt):
            return None
        return f"p-value format '{fmt}' must show three significant figures ('.3~g')"
    decimals = _decimals_problem(fmt)
    if decimals:
        return decimals
    if fmt.endswith(("%", "d")) or UNIT_IN_LABEL.search(label):
        return None
    return (
        f"neither the format '{fmt}' nor the label '{label}' carries a unit "
        "(%, a count, (ms), (mV), (mV/day), (days) or per 10k)"
    )


def _is_percent(fmt: str | None) -> bool:
    return bool(fmt) and fmt.endswith("%")


def _natural_key(text: str) -> list[Any]:
    """The order Superset sorts series names in (numbers by value, case ignored)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _wording_problem(where: str, text: Any) -> list[str]:
    if isinstance(text, str) and INTERNAL_WORDING.search(text):
        return [f"{where}: '{text}' reads as internal wording (snake_case or '(... row)')"]
    return []


def _shown_columns(params: dict[str, Any]) -> list[str]:
    """Every dataset column a chart displays."""
    return [
        column for key in (*COLUMN_PARAMS, "x_axis") for column in param_columns(params.get(key))
    ]


def _saved_metrics(params: dict[str, Any]) -> list[str]:
    """The dataset metrics a chart shows by name (labelled SQL metrics are not)."""
    return [metric for key in METRIC_PARAMS for metric in param_columns(params.get(key))]


def _dataset_problems(name: str, dataset: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    column_labels = {c["column_name"]: c.get("verbose_name") for c in dataset["columns"]}
    for metric in dataset["metrics"]:
        where = f"{name}: metrics.{metric['metric_name']}"
        label = metric.get("verbose_name")
        if not label:
            problems.append(f"{where}: no verbose_name (the label a reader sees)")
            continue
        column_label = column_labels.get(metric["metric_name"])
        if column_label and column_label != label:
            problems.append(
                f"{where}.verbose_name: '{label}' differs from the label of the column of "
                f"that name ('{column_label}'), which Superset shows in its place"
            )
        problems += _wording_problem(f"{where}.verbose_name", label)
        problem = _format_problem(label, metric.get("d3format"), "p_value" in metric["metric_name"])
        if problem:
            problems.append(f"{where}.d3format: {problem}")
    return problems


def _chart_problems(
    name: str,
    chart: dict[str, Any],
    dataset_name: str,
    dataset: dict[str, Any],
    mart: MartModel | None,
) -> list[str]:
    params = chart["params"]
    viz = chart["viz_type"]
    columns = {c["column_name"]: c for c in dataset["columns"]}
    metrics = {m["metric_name"]: m for m in dataset["metrics"]}
    shown_metrics = [metrics[m] for m in _saved_metrics(params) if m in metrics]
    problems = _wording_problem(f"{name}: slice_name", chart["slice_name"])
    for key in SHOWN_TEXT_PARAMS:
        problems += _wording_problem(f"{name}: params.{key}", params.get(key))

    column_config = params.get("column_config") or {}
    for column_name in _shown_columns(params):
        column = columns.get(column_name)
        if column is None:
            continue  # reported by check_bundle
        label = column.get("verbose_name")
        if not label:
            problems.append(
                f"{dataset_name}: columns.{column_name}: no verbose_name, yet charts show it"
            )
            continue
        problems += _wording_problem(f"{dataset_name}: columns.{column_name}.verbose_name", label)
        if viz == "table" and (column.get("type") or "").upper() in NUMERIC_TYPES:
            fmt = (column_config.get(column_name) or {}).get("d3NumberFormat")
            problem = _format_problem(label, fmt, "p_value" in column_name)
            if problem:
                problems.append(f"{name}: params.column_config.{column_name}: {problem}")
    for column_name, config in column_config.items():
        where = f"{name}: params.column_config.{column_name}.customColumnName"
        problems += _wording_problem(where, config.get("customColumnName"))

    y_format = params.get("y_axis_format")
    if y_format:
        only_p_values = bool(shown_metrics) and all(
            "p_value" in metric["metric_name"] for metric in shown_metrics
        )
        problem = (
            _format_problem("", y_format, True) if only_p_values else _decimals_problem(y_format)
        )
        if problem:
            problems.append(f"{name}: params.y_axis_format: {problem}")
        for metric in shown_metrics:
            if _is_percent(metric.get("d3format")) != _is_percent(y_format):
                problems.append(
                    f"{name}: params.y_axis_format: '{y_format}' does not show the unit of "
                    f"'{metric['metric_name']}' ('{metric.get('d3format')}')"
                )

    if viz.startswith("big_number") and not params.get("show_metric_name"):
        for metric in shown_metrics:
            if not (metric.get("d3format") or "").endswith(("%", "d")):
                problems.append(
                    f"{name}: params.show_metric_name: the unit of '{metric['metric_name']}' "
                    "is only in its label; show it (true)"
                )
    if viz.startswith("echarts_timeseries"):
        problems += _axis_and_legend_problems(name, params, columns, shown_metrics, mart)
        problems += _grouped_series_name_problems(name, params, metrics)
    problems += _band_order_problems(name, params, metrics)
    if viz == "table":
        problems += _value_color_problems(name, params, mart)
    return problems


def _axis_and_legend_problems(
    name: str,
    params: dict[str, Any],
    columns: dict[str, dict[str, Any]],
    shown_metrics: list[dict[str, Any]],
    mart: MartModel | None,
) -> list[str]:
    problems: list[str] = []
    y_format = params.get("y_axis_format")
    is_rate = _is_percent(y_format) or (
        not y_format and any(_is_percent(m.get("d3format")) for m in shown_metrics)
    )
    bounds = list(params.get("y_axis_bounds") or [None, None])
    auto_ranged = params.get("truncateYAxis") is True and bounds == [None, None]
    if is_rate and bounds != [0, 1] and not auto_ranged:
        problems.append(
            f"{name}: params.y_axis_bounds: a rate needs a 0-100% axis (y_axis_bounds [0, 1]) "
            "or an auto-ranged one (truncateYAxis true, no bounds)"
        )
    series = _series_count(params, mart)
    if (
        params.get("show_legend")
        and series is not None
        and series <= MAX_PLAIN_LEGEND_SERIES
        and params.get("legendType") != "plain"
    ):
        problems.append(
            f"{name}: params.legendType: {series} series fit a plain legend ('plain'), "
            "not a paged one"
        )
    x_column = columns.get(params.get("x_axis")) if isinstance(params.get("x_axis"), str) else None
    if x_column and not x_column.get("is_dttm") and str(params.get("xAxisLabelInterval")) != "0":
        problems.append(
            f"{name}: params.xAxisLabelInterval: every category needs its label ('0', "
            "rotate long labels with xAxisLabelRotation)"
        )
    return problems


def _grouped_series_name_problems(
    name: str, params: dict[str, Any], metrics: dict[str, dict[str, Any]]
) -> list[str]:
    """Grouped series of several metrics are named 'metric, value' by the metric's name,
    not its verbose name: such charts use labelled metrics that repeat a dataset metric."""
    chart_metrics = params.get("metrics") or []
    if not params.get("groupby") or len(chart_metrics) < 2:
        return []
    expressions = {m["expression"] for m in metrics.values()}
    problems: list[str] = []
    for item in chart_metrics:
        if isinstance(item, str):
            problems.append(
                f"{name}: params.metrics: '{item}' would name grouped series by its metric "
                "name; use a labelled metric repeating the dataset metric's expression"
            )
        elif isinstance(item, dict):
            label = item.get("label") or ""
            problems += _wording_problem(f"{name}: params.metrics.label", label)
            if item.get("sqlExpression") not in expressions:
                problems.append(
                    f"{name}: params.metrics: '{label}' must repeat the expression of a "
                    "dataset metric (metrics are defined once)"
                )
    return problems


def _series_count(params: dict[str, Any], mart: MartModel | None) -> int | None:
    """At most how many series a chart draws: metrics times the accepted values of each
    grouping column; None when a grouping column has no accepted values."""
    count = len(params.get("metrics") or [])
    for column in param_columns(params.get("groupby")):
        values = mart.accepted_values.get(column) if mart else None
        if values is None:
            return None
        count *= len(values)
    return count


def _band_order_problems(
    name: str, params: dict[str, Any], metrics: dict[str, dict[str, Any]]
) -> list[str]:
    shown = [m for m in params.get("metrics") or [] if isinstance(m, str) and m in BAND_METRICS]
    if not shown:
        return []
    in_band_order = [m for m in BAND_METRICS if m in shown]
    labels = [metrics[m].get("verbose_name") or m for m in in_band_order]
    if (
        shown == in_band_order
        and params.get("sort_series_type") == "name"
        and params.get("sort_series_ascending") is True
        and sorted(labels, key=_natural_key) == labels
    ):
        return []
    return [
        f"{name}: params.metrics: health bands must read healthy, watch, replace soon, "
        "replace now: metrics in that order, sort_series_type 'name' ascending and labels "
        f"that sort that way (now {labels})"
    ]


def _value_color_problems(name: str, params: dict[str, Any], mart: MartModel | None) -> list[str]:
    shown = set(_shown_columns(params))
    formatting = params.get("conditional_formatting") or []
    problems: list[str] = []
    for column, colors in VALUE_COLORS.items():
        if column not in shown:
            continue
        for value in mart.accepted_values.get(column, []) if mart else []:
            if value not in colors:
                problems.append(
                    f"{name}: params.conditional_formatting: {column} '{value}' has no agreed "
                    "colour (VALUE_COLORS in check.py)"
                )
        for value, color in colors.items():
            rule = next(
                (
                    f
                    for f in formatting
                    if f.get("column") == column
                    and f.get("operator") == "="
                    and f.get("targetValue") == value
                ),
                {},
            )
            if rule.get("colorScheme") != color:
                problems.append(
                    f"{name}: params.conditional_formatting: {column} '{value}' must be "
                    f"coloured {color}"
                )
    return problems


def presentation_problems(bundle: Bundle, marts: dict[str, MartModel]) -> list[str]:
    """Labels, units, axes, legends and colours a manager reads correctly at a glance."""
    problems: list[str] = []
    datasets = bundle.by_uuid("datasets")
    for name, dataset in bundle.of("datasets").items():
        problems += _dataset_problems(name, dataset)
    for name, chart in bundle.of("charts").items():
        dataset_name, dataset = datasets[str(chart["dataset_uuid"])]
        mart = marts.get(dataset["table_name"])
        problems += _chart_problems(name, chart, dataset_name, dataset, mart)
    for name, dashboard in bundle.of("dashboards").items():
        label_colors = dashboard["metadata"].get("label_colors") or {}
        for label, color in SHARED_LABEL_COLORS.items():
            if label_colors.get(label) != color:
                problems.append(
                    f"{name}: metadata.label_colors.{label}: must be {color}, "
                    "the same colour on every dashboard"
                )
    return list(dict.fromkeys(problems))


# --- exposures and descriptions -------------------------------------------------------


def dashboard_marts(bundle: Bundle) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """For each dashboard (by slug): its content and the marts its charts and filters read.

    The freshness strip reads main.build_freshness, which publishing always writes and
    no dbt model is: it is not an exposure's dependency.
    """
    datasets = {
        uuid: c["table_name"]
        for uuid, (_, c) in bundle.by_uuid("datasets").items()
        if c.get("schema") == PUBLIC_SCHEMA
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
