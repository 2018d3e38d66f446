"""Chart results are cached per published build: a publish reaches the next chart request.

Superset caches a chart query's result under a key made of the query, the dataset's
`changed_on` and what the security manager's `get_rls_cache_key` returns for the
dataset. A publish swaps the served DuckDB file and changes none of these, so the old
numbers would be served from the cache until they expire. The security manager below
adds to that key the identity of the build the dataset's connection reads:

- the digest of `main.build_info`, which every publish writes anew (build invocation
  id, publish time), read through the dataset's own Superset connection. DuckDB shares
  one open database per file among the connections of a process, so a connection opened
  just after a swap can still read the old file while another query holds it open;
  reading the identity the same way as the chart query makes the key name the build
  that query reads, never the new build with the old numbers;
- the served file's identity (device, inode, modification time), which every swap
  changes, also when the same build is published again.

The first request after a publish misses the cache and queries the new file; the next
ones are served from the cache until the next publish. Nothing runs at publish time, so
this holds for every cache backend (files or Redis), every gunicorn worker and a publish
run by another process. When the identity cannot be read, the key is unique to the
request: no cached answer of unknown age is ever served. Other databases (Trino) keep
Superset's own keys.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from superset.security import SupersetSecurityManager

logger = logging.getLogger(__name__)

BUILD_INFO_DIGEST = (
    "select md5(string_agg(info::varchar, chr(10) order by info::varchar))"
    " from main.build_info as info"
)


def served_build_key(database: Any) -> str | None:
    """What identifies the build a DuckDB database's file holds; None for other databases."""
    if database is None or database.backend != "duckdb":
        return None
    path = database.url_object.database
    if not path or path.startswith(":memory:"):
        return None
    try:
        with database.get_raw_connection() as connection:
            cursor = connection.cursor()
            cursor.execute(BUILD_INFO_DIGEST)
            row = cursor.fetchone()
        served = os.stat(path)
    except Exception as exc:  # any failure: never hit the cache with an unknown build
        logger.warning("no cached chart data for %s: its build is unknown (%s)", path, exc)
        return f"unknown build {uuid.uuid4()}"
    if not row or row[0] is None:
        logger.warning("no cached chart data for %s: its build_info is empty", path)
        return f"unknown build {uuid.uuid4()}"
    return f"build {row[0]} file {served.st_dev}:{served.st_ino}:{served.st_mtime_ns}"


class ServedBuildSecurityManager(SupersetSecurityManager):
    """Superset's security manager; its data cache keys also name the served build."""

    def get_rls_cache_key(self, datasource: Any) -> list[str]:
        keys = super().get_rls_cache_key(datasource)
        build = served_build_key(getattr(datasource, "database", None))
        return [*keys, build] if build else keys
