"""Superset side of Access Analytics: configuration helpers, warehouse publishing,
dashboards as code (import, export, check) and a small local server harness."""
