"""Roles, row-level security, users and the admin password, applied inside Superset's app.

`security/roles.yml` is the source of truth: `apply` makes every role it names hold
exactly its grants (anything else is removed), creates the restricted connection and
keeps one RLS rule per regional role. These run in a `python -m` subprocess with the
project's Superset environment (`create_app()` and an app context), so they work
before the web server is up and never depend on a login over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from access_analytics.superset import settings
from access_analytics.warehouse import BUILD_INFO_SCHEMA, PUBLIC_SCHEMA

ROLES_FILE = settings.REPO_ROOT / "security" / "roles.yml"
WAREHOUSE_DATABASE = "Access warehouse"
# Datasets read the marts, or (the freshness strip) the view main.build_freshness.
DATASET_SCHEMAS = (PUBLIC_SCHEMA, BUILD_INFO_SCHEMA)
REGION_COLUMN = "region"
# RLS rules this file owns carry this description; others are left alone.
MANAGED = "managed by security/roles.yml"
ADMIN_USER = settings.ADMIN_USER
# What every DuckDB connection of Superset runs with: read-only, no file or network
# access, no extension installed or loaded, settings locked against SET/RESET.
DUCKDB_LOCKDOWN: dict[str, Any] = {
    "read_only": True,
    "config": {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "enable_external_access": False,
        "lock_configuration": True,
    },
}


class SecurityError(RuntimeError):
    """A security step failed; the message is one line meant for the user."""


def load_roles(path: Path = ROLES_FILE) -> dict[str, Any]:
    spec = yaml.safe_load(path.read_text())
    roles = spec.get("roles") or {}
    for name, role in roles.items():
        unknown = set(role) - {"permissions", "datasets", "databases", "includes", "region"}
        if unknown:
            raise SecurityError(f"{path}: role {name}: unknown keys {sorted(unknown)}")
        for included in role.get("includes", []):
            if included not in roles:
                raise SecurityError(f"{path}: role {name} includes unknown role {included}")
    return spec


def grants(spec: dict[str, Any], name: str) -> dict[str, set]:
    """A role's own grants merged with those of the roles it includes."""
    role = spec["roles"][name]
    result: dict[str, set] = {
        "permissions": {tuple(p) for p in role.get("permissions", [])},
        "datasets": set(role.get("datasets", [])),
        "databases": set(role.get("databases", [])),
    }
    for included in role.get("includes", []):
        for key, values in grants(spec, included).items():
            result[key] |= values
    return result


# --- inside the Superset app ------------------------------------------------------


def _restricted_database(entry: dict[str, Any], serving: Path) -> list[str]:
    from superset import db, security_manager
    from superset.models.core import Database

    from access_analytics.warehouse import restricted_path

    uri = f"duckdb:///{restricted_path(serving).resolve()}"
    extra = json.dumps({"engine_params": {"connect_args": DUCKDB_LOCKDOWN}})
    wanted = {
        "sqlalchemy_uri": uri,
        "extra": extra,
        "expose_in_sqllab": True,
        "allow_dml": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_file_upload": False,
        "allow_run_async": False,
    }
    database = db.session.query(Database).filter_by(database_name=entry["name"]).one_or_none()
    changes = []
    if database is None:
        database = Database(database_name=entry["name"], **wanted)
        db.session.add(database)
        db.session.flush()
        changes.append(f"created connection {entry['name']}")
    for key, value in wanted.items():
        if getattr(database, key) != value:
            setattr(database, key, value)
            changes.append(f"connection {entry['name']}: set {key}")
    security_manager.add_permission_view_menu("database_access", database.perm)
    return changes


def _permission(perm: str, view: str) -> Any:
    from superset import security_manager

    found = security_manager.find_permission_view_menu(perm, view)
    if found is None:
        raise SecurityError(f"Superset has no permission {perm} on {view}")
    return found


def _datasets(names: set[str]) -> dict[str, Any]:
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    rows = (
        db.session.query(SqlaTable)
        .join(Database, SqlaTable.database_id == Database.id)
        .filter(Database.database_name == WAREHOUSE_DATABASE)
        .filter(SqlaTable.schema.in_(DATASET_SCHEMAS))
        .filter(SqlaTable.table_name.in_(sorted(names)))
        .all()
    )
    found = {row.table_name: row for row in rows}
    missing = sorted(names - found.keys())
    if missing:
        raise SecurityError(f"datasets not in Superset (import the dashboards first): {missing}")
    return found


def _database_perm(name: str) -> Any:
    from superset import db
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(database_name=name).one_or_none()
    if database is None:
        raise SecurityError(f"no database connection named {name}")
    return _permission("database_access", database.perm)


def _apply_rls(role: Any, region: str, datasets: list[Any]) -> list[str]:
    from superset import db
    from superset.connectors.sqla.models import RowLevelSecurityFilter
    from superset.utils.core import RowLevelSecurityFilterType

    name = f"{role.name}: {REGION_COLUMN} = {region}"
    clause = f"{REGION_COLUMN} = '{region}'"
    tables = sorted(
        (t for t in datasets if REGION_COLUMN in {c.column_name for c in t.columns}),
        key=lambda t: t.id,
    )
    rule = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
    if rule is None:
        rule = RowLevelSecurityFilter(name=name, description=MANAGED)
        db.session.add(rule)
    changed = (
        rule.clause != clause
        or rule.filter_type != RowLevelSecurityFilterType.REGULAR
        or [r.id for r in rule.roles] != [role.id]
        or sorted(t.id for t in rule.tables) != [t.id for t in tables]
    )
    rule.clause = clause
    rule.filter_type = RowLevelSecurityFilterType.REGULAR
    rule.group_key = None
    rule.roles = [role]
    rule.tables = tables
    return [f"row-level security {name} on {len(tables)} datasets"] if changed else []


def apply_in_app(spec: dict[str, Any], serving: Path) -> list[str]:
    """Make Superset match the file; returns what changed (empty when already so)."""
    from superset import db, security_manager
    from superset.connectors.sqla.models import RowLevelSecurityFilter

    changes: list[str] = []
    for entry in spec.get("databases", []):
        changes += _restricted_database(entry, serving)
    wanted_rules: set[str] = set()
    for name in spec["roles"]:
        granted = grants(spec, name)
        datasets = _datasets(granted["datasets"])
        wanted = {_permission(p, v) for p, v in granted["permissions"]}
        wanted |= {_permission("datasource_access", t.perm) for t in datasets.values()}
        wanted |= {_database_perm(d) for d in granted["databases"]}
        role = security_manager.find_role(name) or security_manager.add_role(name)
        current = set(role.permissions)
        if current != wanted:
            added = sorted(str(p) for p in wanted - current)
            removed = sorted(str(p) for p in current - wanted)
            role.permissions = sorted(wanted, key=lambda p: p.id)
            changes.append(f"role {name}: +{len(added)} -{len(removed)} {added + removed}")
        region = spec["roles"][name].get("region")
        if region:
            rule_changes = _apply_rls(role, str(region), list(datasets.values()))
            wanted_rules.add(f"{name}: {REGION_COLUMN} = {region}")
            changes += rule_changes
    for rule in db.session.query(RowLevelSecurityFilter).filter_by(description=MANAGED).all():
        if rule.name not in wanted_rules:
            db.session.delete(rule)
            changes.append(f"removed row-level security {rule.name}")
    db.session.commit()
    return changes


def set_user_in_app(username: str, password: str, role_name: str) -> str:
    """Create the user, or set its password and its one role."""
    from superset import db, security_manager

    role = security_manager.find_role(role_name)
    if role is None:
        raise SecurityError(f"no role {role_name} (run `access-analytics superset security apply`)")
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(
            username, username, "User", f"{username}@access-analytics.local", role, password
        )
        if not user:
            raise SecurityError(f"Superset could not create user {username}")
        return f"created user {username} ({role_name})"
    user.roles = [role]
    user.active = True
    db.session.commit()
    security_manager.reset_password(user.id, password)
    return f"updated user {username} ({role_name})"


def _run_step(step: dict[str, Any]) -> list[str]:
    if step["op"] == "apply":
        return apply_in_app(load_roles(Path(step["roles"])), Path(step["serving"]))
    if step["op"] == "user":
        return [set_user_in_app(step["username"], step["password"], step["role"])]
    raise SecurityError(f"unknown step {step['op']}")


def _main() -> int:
    """Steps as JSON on stdin (passwords never on a command line), one app for all."""
    from superset.app import create_app

    steps = json.loads(sys.stdin.read())
    app = create_app()
    changes: list[str] = []
    with app.app_context():
        try:
            for step in steps:
                changes += _run_step(step)
        except SecurityError as exc:
            print(json.dumps({"error": str(exc)}))
            return 1
    print(json.dumps({"changes": changes}))
    return 0


# --- from the CLI and the server: run the steps in a subprocess --------------------


def run_in_app(env: dict[str, str], steps: list[dict[str, str]]) -> list[str]:
    """Run steps in Superset's app (one process); its last stdout line is the JSON result."""
    result = subprocess.run(
        [sys.executable, "-m", "access_analytics.superset.security"],
        input=json.dumps(steps),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if result.returncode != 0 or "changes" not in answer:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SecurityError(f"Superset security step failed: {answer.get('error') or tail}")
    return list(answer["changes"])


def apply_step(serving: Path, roles: Path = ROLES_FILE) -> dict[str, str]:
    load_roles(roles)  # a broken file fails here, before Superset is asked
    return {"op": "apply", "roles": str(roles), "serving": str(serving)}


def user_step(username: str, password: str, role: str) -> dict[str, str]:
    return {"op": "user", "username": username, "password": password, "role": role}


def apply_security(env: dict[str, str], serving: Path, roles: Path = ROLES_FILE) -> list[str]:
    return run_in_app(env, [apply_step(serving, roles)])


def set_user(env: dict[str, str], username: str, password: str, role: str) -> str:
    return run_in_app(env, [user_step(username, password, role)])[0]


def set_admin_password(env: dict[str, str], password: str) -> str:
    return set_user(env, ADMIN_USER, password, "Admin")


if __name__ == "__main__":
    sys.exit(_main())
