"""`python -m access_analytics.trino up|down|status|register-lake`."""

from access_analytics.trino.cli import trino_app

if __name__ == "__main__":
    trino_app(prog_name="access-analytics trino")
