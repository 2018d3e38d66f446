"""The local Trino: startup, the raw lake as external tables, the Iceberg catalog dbt uses,
and the trino__ cross-engine macros evaluated on the real engine."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
from pathlib import Path

import jinja2
import numpy as np
import pytest
from lake_builder import write_partition

from access_analytics.trino import install, lake, server

REPO = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2026, 3, 2, 8, 15, 30, 123456)
VIN = "5YJ3E1EA7KF000001"

CONTRACT_TYPES = {
    "access_events": [
        ("event_id", "varchar"),
        ("vin", "varchar"),
        ("event_at", "timestamp(6)"),
        ("received_at", "timestamp(6)"),
        ("event_type", "varchar"),
        ("key_id", "varchar"),
        ("key_type", "varchar"),
        ("radio", "varchar"),
        ("rssi_dbm", "smallint"),
        ("distance_m", "real"),
        ("lock_source", "varchar"),
        ("detail", "varchar"),
        ("firmware_version", "varchar"),
        ("ingest_date", "date"),
    ],
    "fob_battery_readings": [
        ("reading_id", "varchar"),
        ("vin", "varchar"),
        ("fob_id", "varchar"),
        ("read_at", "timestamp(6)"),
        ("received_at", "timestamp(6)"),
        ("voltage_mv", "smallint"),
        ("temperature_c", "real"),
        ("firmware_version", "varchar"),
        ("ingest_date", "date"),
    ],
    "vehicles": [
        ("vin", "varchar"),
        ("model", "varchar"),
        ("access_hw", "varchar"),
        ("region", "varchar"),
        ("delivered_on", "date"),
        ("snapshot_date", "date"),
    ],
    "keys": [
        ("key_id", "varchar"),
        ("vin", "varchar"),
        ("key_type", "varchar"),
        ("paired_at", "timestamp(6)"),
        ("cell_lot", "varchar"),
        ("snapshot_date", "date"),
    ],
    "firmware_releases": [
        ("version", "varchar"),
        ("released_on", "date"),
        ("channel", "varchar"),
        ("snapshot_date", "date"),
    ],
}


def event(number: int, **values) -> dict:
    return {
        "event_id": f"{number:032x}",
        "vin": VIN,
        "event_at": T0,
        "received_at": T0 + dt.timedelta(seconds=2),
        "event_type": "key_detected",
        "key_id": "k1",
        "key_type": "phone",
        "radio": "ble",
        "rssi_dbm": -71,
        "firmware_version": "2026.8.1",
        **values,
    }


def write_tiny_lake(root: Path) -> None:
    day = T0.date()
    write_partition(root, "access_events", day, [event(1), event(2, distance_m=1.25)])
    write_partition(
        root,
        "fob_battery_readings",
        day,
        [
            {
                "reading_id": "f" * 32,
                "vin": VIN,
                "fob_id": "k2",
                "read_at": T0,
                "received_at": T0,
                "voltage_mv": 2875,
                "temperature_c": -12.5,
                "firmware_version": "2026.8.1",
            }
        ],
    )
    snapshot = dt.date(2026, 3, 1)
    write_partition(
        root,
        "vehicles",
        snapshot,
        [
            {
                "vin": VIN,
                "model": "Model Y",
                "access_hw": "ble_uwb",
                "region": "EU",
                "delivered_on": dt.date(2025, 6, 30),
            }
        ],
    )
    write_partition(
        root,
        "keys",
        snapshot,
        [{"key_id": "k2", "vin": VIN, "key_type": "fob", "paired_at": T0, "cell_lot": "L2025-07A"}],
    )
    write_partition(
        root,
        "firmware_releases",
        snapshot,
        [{"version": "2026.8.1", "released_on": dt.date(2026, 2, 20), "channel": "production"}],
    )


def rows(settings: server.TrinoSettings, sql: str) -> list[tuple]:
    return server.query(sql, settings)


# --- without a server -----------------------------------------------------------------------


def test_download_without_maven_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    settings = server.TrinoSettings(cache_dir=tmp_path / "cache", var_dir=tmp_path / "var")
    with pytest.raises(server.TrinoError, match="Maven"):
        install.download(settings, log=lambda _message: None)


def test_no_java_24_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    monkeypatch.delenv("ACCESS_TRINO_JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(install.glob, "glob", lambda _pattern: [])
    with pytest.raises(server.TrinoError, match="Java 24"):
        install.find_java()


def test_finds_a_java_24_or_newer():
    java = install.find_java()
    assert install._java_major(java) >= install.MIN_JAVA_MAJOR


def test_register_rejects_an_unsafe_schema_name(tmp_path):
    write_tiny_lake(tmp_path / "lake")
    with pytest.raises(ValueError, match="schema name"):
        lake.register_lake(tmp_path / "lake", schema="raw; drop schema x")


def test_start_refuses_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = server.TrinoSettings(port=port, var_dir=tmp_path)
        with pytest.raises(server.TrinoError, match=f"port {port} is already in use"):
            server.start(settings, log=lambda _message: None)


# --- the server -------------------------------------------------------------------------------


@pytest.mark.trino
def test_server_is_trino_476_with_both_catalogs(trino_server):
    assert rows(trino_server, "select node_version, coordinator from system.runtime.nodes") == [
        ("476", True)
    ]
    catalogs = {row[0] for row in rows(trino_server, "show catalogs")}
    assert {server.ICEBERG_CATALOG, server.HIVE_CATALOG} <= catalogs
    state = server.status(trino_server)
    assert state.ready
    assert state.heap_max_bytes == 3 * 2**30


@pytest.mark.trino
def test_registered_raw_tables_have_the_contract_types(trino_server, tmp_path):
    write_tiny_lake(tmp_path / "lake")
    registered = lake.register_lake(tmp_path / "lake", trino_server)
    assert {table.name: table.rows for table in registered} == {
        "access_events": 2,
        "fob_battery_readings": 1,
        "vehicles": 1,
        "keys": 1,
        "firmware_releases": 1,
    }
    for table, expected in CONTRACT_TYPES.items():
        columns = rows(
            trino_server,
            "select column_name, data_type from hive.information_schema.columns "
            f"where table_schema = 'raw' and table_name = '{table}' order by ordinal_position",
        )
        assert columns == expected, table


@pytest.mark.trino
def test_raw_values_round_trip_exactly_with_the_file_path(trino_server, tmp_path):
    write_tiny_lake(tmp_path / "lake")
    lake.register_lake(tmp_path / "lake", trino_server)
    found = rows(
        trino_server,
        'select event_id, event_at, rssi_dbm, distance_m, key_id, ingest_date, "$path" '
        "from hive.raw.access_events order by event_id",
    )
    folder = tmp_path / "lake" / "raw" / "access_events" / f"ingest_date={T0.date()}"
    path = f"local://{folder.resolve()}/part-0.parquet"
    assert found == [
        (f"{1:032x}", T0, -71, None, "k1", T0.date(), path),
        (f"{2:032x}", T0, -71, 1.25, "k1", T0.date(), path),
    ]
    reading = rows(
        trino_server, "select voltage_mv, temperature_c, read_at from hive.raw.fob_battery_readings"
    )
    assert reading == [(2875, -12.5, T0)]
    vehicle = rows(trino_server, "select delivered_on, snapshot_date from hive.raw.vehicles")
    assert vehicle == [(dt.date(2025, 6, 30), dt.date(2026, 3, 1))]


@pytest.mark.trino
def test_registering_again_is_idempotent_and_follows_the_lake(trino_server, tmp_path):
    root = tmp_path / "lake"
    write_tiny_lake(root)
    lake.register_lake(root, trino_server)
    again = lake.register_lake(root, trino_server)
    assert [(table.created, table.rows) for table in again] == [
        (False, 2),
        (False, 1),
        (False, 1),
        (False, 1),
        (False, 1),
    ]

    # A late file in a known partition is read without registering; a new partition after.
    next_day = T0.date() + dt.timedelta(days=1)
    write_partition(root, "access_events", T0.date(), [event(3)], file_name="late.parquet")
    assert rows(trino_server, "select count(*) from hive.raw.access_events") == [(3,)]
    write_partition(root, "access_events", next_day, [event(4)], file_name="x.parquet")
    assert rows(trino_server, "select count(*) from hive.raw.access_events") == [(3,)]
    refreshed = {table.name: table for table in lake.register_lake(root, trino_server)}
    assert (refreshed["access_events"].partitions, refreshed["access_events"].rows) == (2, 4)
    assert not refreshed["access_events"].created

    # A newer registry snapshot becomes visible as a new partition.
    write_partition(
        root,
        "firmware_releases",
        dt.date(2026, 3, 8),
        [{"version": "2026.9.1", "released_on": dt.date(2026, 3, 7), "channel": "early_access"}],
    )
    lake.register_lake(root, trino_server)
    newest = rows(trino_server, "select max(snapshot_date) from hive.raw.firmware_releases")
    assert newest == [(dt.date(2026, 3, 8),)]


@pytest.mark.trino
def test_a_moved_lake_is_registered_anew_and_the_old_files_stay(trino_server, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_tiny_lake(first)
    write_tiny_lake(second)
    write_partition(second, "access_events", T0.date(), [event(9)], file_name="more.parquet")
    lake.register_lake(first, trino_server)
    moved = {table.name: table for table in lake.register_lake(second, trino_server)}
    assert moved["access_events"].created
    assert moved["access_events"].rows == 3
    assert len(list((first / "raw" / "access_events").rglob("*.parquet"))) == 1


@pytest.mark.trino
def test_register_rejects_a_folder_without_raw(trino_server, tmp_path):
    with pytest.raises(FileNotFoundError, match="no raw lake"):
        lake.register_lake(tmp_path, trino_server)


@pytest.mark.trino
def test_iceberg_catalog_takes_views_merge_and_delete(trino_server):
    for sql in (
        "create schema if not exists lake.server_check",
        "create or replace table lake.server_check.t as "
        "select * from (values (1, timestamp '2026-01-01 00:00:00.000001')) as v (id, at)",
        "merge into lake.server_check.t as t using (values (1, 'x'), (2, 'y')) as s (id, tag) "
        "on t.id = s.id when matched then update set at = timestamp '2026-01-02 00:00:00' "
        "when not matched then insert (id, at) values (s.id, timestamp '2026-01-03 00:00:00')",
        "delete from lake.server_check.t where id = 1",
        "create or replace view lake.server_check.v as select id, at from lake.server_check.t",
    ):
        rows(trino_server, sql)
    found = rows(trino_server, "select id, at from lake.server_check.v")
    assert found == [(2, dt.datetime(2026, 1, 3))]
    assert rows(trino_server, "describe lake.server_check.t")[1][1] == "timestamp(6)"


# --- the trino__ macros, evaluated on Trino -----------------------------------------------


def _trino_macros(monkeypatch) -> dict[str, jinja2.runtime.Macro]:
    """The macros of macros/cross_engine/, rendered with just enough of dbt's context.

    Inside the project `access_analytics.<name>` dispatches to the adapter's variant, so on
    Trino every <name> resolves to trino__<name> here.
    """
    monkeypatch.setenv("ACCESS_PSEUDONYM_KEY", "test-key")
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    macros: dict[str, jinja2.runtime.Macro] = {}
    context = {
        "env_var": lambda name, default=None: os.environ.get(name, default),
        "execute": True,
        "return": lambda value: value,
        "access_analytics": macros,
    }
    for path in sorted((REPO / "macros" / "cross_engine").glob("*.sql")):
        module = environment.from_string(path.read_text()).make_module(context)
        macros.update(
            (name, value)
            for name, value in vars(module).items()
            if isinstance(value, jinja2.runtime.Macro)
        )
    for name in [name for name in macros if name.startswith("trino__")]:
        macros[name.removeprefix("trino__")] = macros[name]
    return macros


def _render(macro, *args) -> str:
    return str(macro(*args)).strip()


@pytest.mark.trino
def test_trino_percentile_cont_is_exact(trino_server, monkeypatch):
    macros = _trino_macros(monkeypatch)
    generator = np.random.default_rng(3)
    groups = {
        "one": np.array([1234]),
        "two": np.array([100, 30000]),
        "lognormal": np.clip(np.rint(generator.lognormal(np.log(700), 0.7, 999)), 100, 30000),
        "heavy": np.clip(np.rint(100 + generator.pareto(1.5, 2000) * 300), 100, 30000),
        "few_values": generator.choice([120, 800, 29000], 501, p=[0.6, 0.3, 0.1]),
    }
    values = ", ".join(f"('{name}', {int(x)})" for name, sample in groups.items() for x in sample)
    fractions = (0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
    selected = ", ".join(_render(macros["trino__percentile_cont"], "x", f) for f in fractions)
    found = rows(
        trino_server,
        f"select g, {selected} from (values {values}, ('empty', null)) as t (g, x) group by g",
    )
    by_group = {row[0]: row[1:] for row in found}
    assert by_group.pop("empty") == (None,) * len(fractions)
    for name, sample in groups.items():
        expected = [float(np.quantile(sample, f, method="linear")) for f in fractions]
        assert by_group[name] == pytest.approx(expected, rel=1e-12), name
    median = rows(
        trino_server, f"select {_render(macros['median'], 'x')} from (values 1, 2, 4, 9) as t (x)"
    )
    assert median == [(3.0,)]


@pytest.mark.trino
def test_trino_time_macros_truncate_exact_microseconds(trino_server, monkeypatch):
    macros = _trino_macros(monkeypatch)
    pairs = [
        ("2026-01-01 00:00:00.000999", "2026-01-01 00:00:00.001000", 0, 0.000001),
        ("2026-01-01 00:00:00.001000", "2026-01-01 00:00:00.000999", 0, -0.000001),
        ("2026-01-01 00:00:00.000100", "2026-01-01 00:00:05.000099", 4999, 4.999999),
        ("2026-01-01 00:00:00.250000", "2026-01-01 00:00:05.250000", 5000, 5.0),
        ("2026-01-01 23:59:59.999999", "2026-01-02 00:00:00.000000", 0, 0.000001),
        ("2026-01-01 00:00:07.500000", "2026-01-01 00:00:00.000000", -7500, -7.5),
        ("1969-12-31 23:59:59.250000", "1970-01-01 00:00:00.250001", 1000, 1.000001),
    ]
    for start, end, millis, seconds in pairs:
        start_sql, end_sql = f"timestamp '{start}'", f"timestamp '{end}'"
        found = rows(
            trino_server,
            f"select {_render(macros['trino__millis_between'], start_sql, end_sql)}, "
            f"{_render(macros['trino__seconds_between'], start_sql, end_sql)}",
        )
        assert found == [(millis, pytest.approx(seconds, abs=1e-9))], (start, end)
    shifted = rows(
        trino_server,
        "select "
        + _render(macros["trino__add_seconds"], "timestamp '2026-01-01 00:00:00.5'", -300)
        + ", "
        + _render(macros["trino__add_days"], "date '2026-03-01'", -1),
    )
    assert shifted == [(dt.datetime(2025, 12, 31, 23, 55, 0, 500000), dt.date(2026, 2, 28))]


@pytest.mark.trino
def test_trino_text_macros(trino_server, monkeypatch):
    macros = _trino_macros(monkeypatch)
    vin_rule = "[A-HJ-NPR-Z0-9]{17}"
    checks = {
        VIN: True,
        VIN + "X": False,
        "x" + VIN[1:]: False,
        "5YJ3E1EA7KF00000I": False,
    }
    for value, expected in checks.items():
        sql = _render(macros["trino__regexp_full_match"], f"'{value}'", vin_rule)
        assert rows(trino_server, f"select {sql}") == [(expected,)], value
    pseudonym = _render(macros["trino__pseudonym"], "'k1'")
    expected = hashlib.sha256(b"test-key|k1").hexdigest()[:16]
    assert rows(trino_server, f"select {pseudonym}") == [(expected,)]
    cast = _render(macros["trino__safe_cast"], "'12x'", "integer")
    assert rows(trino_server, f"select {cast}") == [(None,)]


@pytest.mark.trino
def test_trino_timestamp_casts_keep_microseconds(trino_server, monkeypatch):
    """A bare `timestamp` is timestamp(3) on Trino; the casts of the project keep all six digits."""
    macros = _trino_macros(monkeypatch)
    value = "timestamp '2026-01-01 00:00:00.000999'"
    typed = f"cast({value} as {_render(macros['trino__timestamp_type'])})"
    safe = _render(macros["trino__safe_cast"], value, "timestamp")
    found = rows(trino_server, f"select {typed}, {safe}, cast({value} as timestamp)")
    exact = dt.datetime(2026, 1, 1, 0, 0, 0, 999)
    assert found == [(exact, exact, dt.datetime(2026, 1, 1, 0, 0, 0, 1000))]
