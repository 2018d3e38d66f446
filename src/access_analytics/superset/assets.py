"""Dashboards as code: read, validate, bundle and normalize Superset v1 exports.

The folder layout is Superset's own (metadata.yaml, databases/, datasets/,
charts/, dashboards/). Superset identifies everything by UUID, so the files
carry no numeric ids; the normalizer removes the ids, timestamps and caches an
export contains, so that an unchanged dashboard exports byte for byte the same.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUNDLE_ROOT = "access_analytics_dashboards"
METADATA = {"type": "assets", "version": "1.0.0"}
# The URI written to git: a readable placeholder; the real one (with any
# credential) is set from the environment when importing.
PLACEHOLDER_URI = "duckdb:///data/serving/warehouse.duckdb"
FOLDERS = ("databases", "datasets", "charts", "dashboards")
REQUIRED_KEYS = {
    "databases": ("database_name", "sqlalchemy_uri", "uuid", "version"),
    "datasets": ("table_name", "schema", "uuid", "database_uuid", "columns", "metrics"),
    "charts": ("slice_name", "viz_type", "params", "uuid", "dataset_uuid"),
    "dashboards": ("dashboard_title", "uuid", "position", "metadata"),
}
# Volatile metadata Superset's UI writes back on every save. `label_colors` is not: it
# holds the colours given to meanings (health bands, release status), kept in git.
VOLATILE_DASHBOARD_METADATA = (
    "shared_label_colors",
    "map_label_colors",
    "color_scheme_domain",
    "positions",
    "show_native_filters",
    "chart_configuration",
    "global_chart_configuration",
)


class AssetError(ValueError):
    """A problem in the dashboards folder, naming the file and the key."""


@dataclass
class Bundle:
    """The parsed dashboards folder, keyed by path relative to it."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of(self, folder: str) -> dict[str, dict[str, Any]]:
        return {p: c for p, c in sorted(self.files.items()) if p.startswith(f"{folder}/")}

    def by_uuid(self, folder: str) -> dict[str, tuple[str, dict[str, Any]]]:
        return {str(c["uuid"]): (p, c) for p, c in self.of(folder).items()}


def param_columns(value: Any) -> list[str]:
    """The column (or metric) names a chart parameter holds: one name or a list of them;
    SQL expressions (dicts) are not names."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _load_yaml(path: Path, name: str) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise AssetError(f"{name}: invalid YAML: {exc}") from exc


def load_bundle(directory: Path) -> Bundle:
    """Parse and validate every file; raise AssetError before anything is imported."""
    if not (directory / "metadata.yaml").exists():
        raise AssetError(f"{directory}/metadata.yaml: missing")
    metadata = _load_yaml(directory / "metadata.yaml", "metadata.yaml")
    if not isinstance(metadata, dict) or metadata.get("type") != "assets":
        raise AssetError("metadata.yaml: key 'type' must be 'assets'")
    bundle = Bundle({"metadata.yaml": metadata})
    for path in sorted(directory.rglob("*.yaml")):
        name = path.relative_to(directory).as_posix()
        if name == "metadata.yaml":
            continue
        folder = name.split("/", 1)[0]
        if folder not in FOLDERS:
            raise AssetError(f"{name}: unexpected folder '{folder}' (expected one of {FOLDERS})")
        content = _load_yaml(path, name)
        if not isinstance(content, dict):
            raise AssetError(f"{name}: expected a mapping at the top level")
        for key in REQUIRED_KEYS[folder]:
            if key not in content or content[key] is None:
                raise AssetError(f"{name}: missing required key '{key}'")
        bundle.files[name] = content
    validate_references(bundle)
    return bundle


def validate_references(bundle: Bundle) -> None:
    """Every uuid a file points at must be another file of the bundle."""
    databases = bundle.by_uuid("databases")
    datasets = bundle.by_uuid("datasets")
    charts = bundle.by_uuid("charts")
    for folder in FOLDERS:
        seen: dict[str, str] = {}
        for name, content in bundle.of(folder).items():
            uuid = str(content["uuid"])
            if uuid in seen:
                raise AssetError(f"{name}: key 'uuid' {uuid} is also used by {seen[uuid]}")
            seen[uuid] = name
    for name, dataset in bundle.of("datasets").items():
        if str(dataset["database_uuid"]) not in databases:
            raise AssetError(f"{name}: key 'database_uuid' does not match any databases/ file")
    for name, chart in bundle.of("charts").items():
        if str(chart["dataset_uuid"]) not in datasets:
            raise AssetError(f"{name}: key 'dataset_uuid' does not match any datasets/ file")
    for name, dashboard in bundle.of("dashboards").items():
        position = dashboard["position"]
        if not isinstance(position, dict):
            raise AssetError(f"{name}: key 'position' must be a mapping")
        for key, node in position.items():
            if not isinstance(node, dict) or node.get("type") != "CHART":
                continue
            uuid = str(node.get("meta", {}).get("uuid"))
            if uuid not in charts:
                raise AssetError(f"{name}: key 'position.{key}.meta.uuid' matches no chart")
            if "chartId" not in node.get("meta", {}):
                raise AssetError(f"{name}: key 'position.{key}.meta.chartId' is missing")
        for index, flt in enumerate(dashboard["metadata"].get("native_filter_configuration", [])):
            for target in flt.get("targets", []):
                if "datasetUuid" in target and str(target["datasetUuid"]) not in datasets:
                    raise AssetError(
                        f"{name}: key 'metadata.native_filter_configuration[{index}]"
                        ".targets.datasetUuid' matches no dataset"
                    )


def bundle_zip(bundle: Bundle, database_uri: str) -> bytes:
    """The zip /api/v1/assets/import/ expects, with the database URI filled in."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(bundle.files.items()):
            if name.startswith("databases/"):
                content = _with_uri(content, database_uri)
            archive.writestr(f"{BUNDLE_ROOT}/{name}", yaml.safe_dump(content, sort_keys=True))
    return buffer.getvalue()


def _with_uri(database: dict[str, Any], uri: str) -> dict[str, Any]:
    """The database with its real URI; DuckDB-only connect arguments are kept only
    for DuckDB (production points the same dashboards at Trino)."""
    database = {**database, "sqlalchemy_uri": uri}
    if not uri.startswith("duckdb"):
        extra = dict(database.get("extra") or {})
        engine_params = dict(extra.get("engine_params") or {})
        engine_params.pop("connect_args", None)
        extra["engine_params"] = engine_params
        database["extra"] = extra
    return database


# --- normalization of exports -------------------------------------------------------


def dump_yaml(content: Any) -> str:
    return yaml.safe_dump(
        content, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100
    )


def read_export_zip(data: bytes) -> dict[str, Any]:
    """Files of a Superset export, without its timestamped root folder."""
    files: dict[str, Any] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not name.endswith(".yaml"):
                continue
            relative = name.split("/", 1)[1]
            files[relative] = yaml.safe_load(archive.read(name))
    return files


def _normalize_database(content: dict[str, Any]) -> dict[str, Any]:
    content = dict(content)
    content["sqlalchemy_uri"] = PLACEHOLDER_URI
    content.pop("password", None)
    return content


def _normalize_dataset(content: dict[str, Any]) -> dict[str, Any]:
    content = dict(content)
    for key in ("id", "changed_on", "created_on"):
        content.pop(key, None)
    columns = [{k: v for k, v in c.items() if k != "id"} for c in content.get("columns", [])]
    metrics = [{k: v for k, v in m.items() if k != "id"} for m in content.get("metrics", [])]
    content["columns"] = sorted(columns, key=lambda c: c["column_name"])
    content["metrics"] = sorted(metrics, key=lambda m: m["metric_name"])
    return content


def _normalize_params(params: dict[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in params.items() if k not in ("datasource", "slice_id", "dashboards")}
    for key in ("metrics", "metric", "metric_2", "percent_metrics", "timeseries_limit_metric"):
        value = params.get(key)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("column"), dict):
                item["column"].pop("id", None)
    return params


def _normalize_chart(content: dict[str, Any]) -> dict[str, Any]:
    content = dict(content)
    content["params"] = _normalize_params(content.get("params") or {})
    # The saved query context embeds numeric dataset ids; Superset rebuilds it.
    content["query_context"] = None
    return content


def _canonical_position(position: dict[str, Any], chart_slugs: dict[str, str]) -> dict[str, Any]:
    """Rename layout keys by their place in the tree so they never depend on the UI's
    random ids, and number charts 1..n in the same order."""
    renamed: dict[str, str] = {"ROOT_ID": "ROOT_ID"}
    counters: dict[str, int] = {}
    chart_numbers: dict[str, int] = {}
    order: list[str] = []

    def visit(key: str) -> None:
        node = position[key]
        order.append(key)
        if key not in renamed:
            kind = node["type"]
            if kind == "CHART":
                base = f"CHART-{chart_slugs.get(str(node['meta'].get('uuid')), 'chart')}"
                new = base
                suffix = 2
                while new in renamed.values():
                    new = f"{base}-{suffix}"
                    suffix += 1
                chart_numbers[key] = len(chart_numbers) + 1
            elif kind in ("GRID", "HEADER"):
                new = f"{kind}_ID"
            else:
                counters[kind] = counters.get(kind, 0) + 1
                new = f"{kind}-{counters[kind]}"
            renamed[key] = new
        for child in node.get("children", []):
            visit(child)

    visit("ROOT_ID")
    for key in position:
        if (
            key not in renamed
            and isinstance(position[key], dict)
            and key != "DASHBOARD_VERSION_KEY"
        ):
            renamed[key] = key  # orphan nodes keep their key
            order.append(key)
    result: dict[str, Any] = {}
    for key in order:
        node = dict(position[key])
        node["id"] = renamed[key]
        node["children"] = [renamed[c] for c in node.get("children", [])]
        node["parents"] = [renamed.get(p, p) for p in node.get("parents", [])]
        if node["type"] == "CHART":
            node["meta"] = dict(node["meta"])
            node["meta"]["chartId"] = chart_numbers.get(key, 0)
        result[renamed[key]] = node
    result["DASHBOARD_VERSION_KEY"] = position.get("DASHBOARD_VERSION_KEY", "v2")
    return result


def _normalize_dashboard(content: dict[str, Any], chart_slugs: dict[str, str]) -> dict[str, Any]:
    content = dict(content)
    position = content["position"]
    old_ids = {
        node["meta"]["chartId"]: node["meta"]["uuid"]
        for node in position.values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }
    content["position"] = _canonical_position(position, chart_slugs)
    new_ids = {
        node["meta"]["uuid"]: node["meta"]["chartId"]
        for node in content["position"].values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    }
    metadata = {
        k: v for k, v in content["metadata"].items() if k not in VOLATILE_DASHBOARD_METADATA
    }
    filters = []
    for flt in metadata.get("native_filter_configuration", []):
        flt = dict(flt)
        scope = dict(flt.get("scope", {}))
        scope["excluded"] = sorted(
            new_ids[old_ids[i]] for i in scope.get("excluded", []) if i in old_ids
        )
        flt["scope"] = scope
        # Derived by the frontend from `scope`; holds database ids.
        flt.pop("chartsInScope", None)
        flt.pop("tabsInScope", None)
        filters.append(flt)
    metadata["native_filter_configuration"] = filters
    metadata["timed_refresh_immune_slices"] = []
    metadata["expanded_slices"] = {}
    metadata["filter_scopes"] = {}
    metadata["default_filters"] = "{}"
    content["metadata"] = metadata
    return content


def normalize_export(files: dict[str, Any]) -> dict[str, str]:
    """Map an export's files to their canonical names and text."""
    out: dict[str, str] = {"metadata.yaml": dump_yaml(METADATA)}
    databases = {str(c["uuid"]): c for n, c in files.items() if n.startswith("databases/")}
    datasets = {str(c["uuid"]): c for n, c in files.items() if n.startswith("datasets/")}
    charts = {str(c["uuid"]): c for n, c in files.items() if n.startswith("charts/")}
    dashboards = [c for n, c in files.items() if n.startswith("dashboards/")]
    chart_slugs = {uuid: slugify(c["slice_name"]) for uuid, c in charts.items()}

    def put(name: str, content: dict[str, Any]) -> None:
        if name in out:
            raise AssetError(f"{name}: two exported objects map to this file name; rename one")
        out[name] = dump_yaml(content)

    db_slugs = {uuid: slugify(c["database_name"]) for uuid, c in databases.items()}
    for uuid, content in databases.items():
        put(f"databases/{db_slugs[uuid]}.yaml", _normalize_database(content))
    for content in datasets.values():
        folder = db_slugs.get(str(content["database_uuid"]), "database")
        put(f"datasets/{folder}/{content['table_name']}.yaml", _normalize_dataset(content))
    for uuid, content in charts.items():
        put(f"charts/{chart_slugs[uuid]}.yaml", _normalize_chart(content))
    for content in dashboards:
        put(
            f"dashboards/{slugify(content['dashboard_title'])}.yaml",
            _normalize_dashboard(content, chart_slugs),
        )
    return dict(sorted(out.items()))


def write_tree(directory: Path, files: dict[str, str]) -> list[str]:
    """Replace the YAML files of `directory` by `files`; return the changed paths."""
    changed: list[str] = []
    existing = {p.relative_to(directory).as_posix() for p in directory.rglob("*.yaml")}
    for name in sorted(existing - set(files)):
        (directory / name).unlink()
        changed.append(name)
    for name, text in files.items():
        path = directory / name
        if path.exists() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changed.append(name)
    return changed


def read_tree(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text()
        for p in sorted(directory.rglob("*.yaml"))
    }
