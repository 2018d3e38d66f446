"""The project's dbt-score rules and filters, loaded by [tool.dbt-score] in pyproject.toml."""
