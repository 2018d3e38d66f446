"""The dbt context the fast sqlfluff hook renders models with (jinja templater).

Importing dbt alone takes about 5 s, so the dbt templater cannot lint one file
quickly. The jinja templater renders the same files with the project's own
macros (`load_macros_from_path`) and sqlfluff's dbt builtins (`ref`, `source`,
`config`, `return`, ...); this module adds what those builtins lack, as a fresh
lint build sees it (the `lint` target: an empty in-memory DuckDB):

- `adapter.dispatch` picks `duckdb__<macro>` and falls back to `default__<macro>`;
- `access_analytics.<macro>` calls the project's macro of that name;
- `var()` reads `dbt_project.yml` vars, overridden by `.sqlfluff`'s
  `[sqlfluff:templater:dbt:context]` (one statement for both templaters);
- `is_incremental()` is false and `execute` true, as in a first build;
- `source('raw', ...)` renders as dbt-duckdb renders it: the source's
  external_location (models/staging/_staging__sources.yml) for that table;
- `graph.sources` holds that file's tables, meta and columns, so the raw
  contract macros render the same select lists as in a build;
- `env_var()` without a default and `exceptions.raise_compiler_error` fail the
  render, so a model that would not compile is a lint error, never a skip.

Names here become Jinja globals: anything without a leading `__` is exported.
"""

import configparser
import datetime
import os
import re
from pathlib import Path

import jinja2
import yaml
from sqlfluff.core.templaters.builtins.dbt import MacroReturn

_ROOT = Path(__file__).resolve().parents[2]
_PROJECT = yaml.safe_load((_ROOT / "dbt_project.yml").read_text())


class LintCompilationError(jinja2.TemplateError):
    """A model that dbt would refuse to compile."""


def _project_vars() -> dict:
    values = dict(_PROJECT.get("vars") or {})
    parser = configparser.ConfigParser()
    parser.read(_ROOT / ".sqlfluff")
    section = "sqlfluff:templater:dbt:context"
    if parser.has_section(section):
        # Values arrive as text; dbt reads them as YAML scalars (false, 3, ...).
        values.update({k: yaml.safe_load(v) for k, v in parser.items(section)})
    return values


_VARS = _project_vars()
_MISSING = object()


def env_var(name, default=_MISSING):
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise LintCompilationError(f"env_var('{name}') is not set and has no default")
    return default


def var(name, default=_MISSING):
    if name in _VARS:
        return _VARS[name]
    if default is _MISSING:
        raise LintCompilationError(f"var('{name}') is not defined in dbt_project.yml")
    return default


def is_incremental():
    return False


_SOURCES_FILE = _ROOT / "models" / "staging" / "_staging__sources.yml"


class _SourceRelation(str):
    """A source relation as dbt-duckdb renders it; `render()` gives the same text."""

    def render(self):
        return str(self)


def source(source_name, table_name):
    document = yaml.safe_load(_SOURCES_FILE.read_text())
    found = [s for s in document["sources"] if s["name"] == source_name]
    if not found:
        raise LintCompilationError(f"source '{source_name}' is not defined in {_SOURCES_FILE.name}")
    location = found[0]["config"]["meta"]["external_location"]
    rendered = jinja2.Template(location).render(env_var=env_var)
    return _SourceRelation(rendered.replace("{name}", table_name))


def run_query(sql):
    raise LintCompilationError("run_query() needs a database; linting compiles without one")


execute = True


class _Exceptions:
    def raise_compiler_error(self, message):
        raise LintCompilationError(message)

    def warn(self, message):
        return ""


exceptions = _Exceptions()


class _Modules:
    re = re
    datetime = datetime


modules = _Modules()


class _Target:
    name = "lint"
    type = "duckdb"
    schema = "main"
    database = "memory"
    threads = 1


target = _Target()

project_name = _PROJECT["name"]


def _source_nodes() -> dict:
    """graph.sources as dbt builds it from the sources file: meta and columns per table.

    The contract macros (macros/staging/raw_contract.sql) read column names,
    types and rules from here, so staging models render their real select lists.
    """
    nodes = {}
    for source in yaml.safe_load(_SOURCES_FILE.read_text())["sources"]:
        source_meta = (source.get("config") or {}).get("meta") or {}
        for table in source["tables"]:
            table_meta = (table.get("config") or {}).get("meta") or {}
            columns = {
                column["name"]: {
                    "name": column["name"],
                    "data_type": column.get("data_type"),
                    "meta": (column.get("config") or {}).get("meta") or {},
                }
                for column in table.get("columns") or []
            }
            unique_id = f"source.{project_name}.{source['name']}.{table['name']}"
            nodes[unique_id] = {
                "name": table["name"],
                "source_name": source["name"],
                "meta": {**source_meta, **table_meta},
                "columns": columns,
            }
    return nodes


graph = {"nodes": {}, "sources": _source_nodes(), "exposures": {}}


def _macro(context, name):
    """The project macro `name`, returning what its `return()` gives, as dbt does.

    Macros that macros call are not always wrapped by sqlfluff, so a `return()`
    inside one would otherwise end its caller instead.
    """
    found = context.resolve_or_missing(name)
    if found is jinja2.utils.missing:
        raise LintCompilationError(f"macro '{name}' is not defined in macros/")

    def call(*args, **kwargs):
        try:
            return found(*args, **kwargs)
        except MacroReturn as returned:
            return returned.value

    return call


class _Adapter:
    @jinja2.pass_context
    def dispatch(self, context, macro_name, macro_namespace=None):
        for candidate in (f"duckdb__{macro_name}", f"default__{macro_name}"):
            if context.resolve_or_missing(candidate) is not jinja2.utils.missing:
                return _macro(context, candidate)
        raise LintCompilationError(f"no duckdb__ or default__ implementation of '{macro_name}'")

    def quote(self, identifier):
        return f'"{identifier}"'


adapter = _Adapter()


class _Namespace:
    """`access_analytics.<macro>(...)`: the macro, looked up where it is called."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        @jinja2.pass_context
        def call(context, *args, **kwargs):
            return _macro(context, name)(*args, **kwargs)

        return call


access_analytics = _Namespace()
