{#- Cast that yields null instead of failing when the value does not fit the type. -#}
{% macro safe_cast(expr, data_type) -%}
    {{ return(adapter.dispatch('safe_cast', 'access_analytics')(expr, data_type)) }}
{%- endmacro %}

{% macro duckdb__safe_cast(expr, data_type) -%}
    try_cast({{ expr }} as {{ data_type }})
{%- endmacro %}

{#- A bare `timestamp` means timestamp(3) on Trino: keep the microseconds (see below). -#}
{% macro trino__safe_cast(expr, data_type) -%}
    {%- set target_type = access_analytics.trino__timestamp_type() if data_type | trim | lower == 'timestamp' else data_type -%}
    try_cast({{ expr }} as {{ target_type }})
{%- endmacro %}


{#-
    The timestamp type with microseconds, for casts. On Trino a bare
    `timestamp` is timestamp(3): casting the raw TIMESTAMP(MICROS) values to it
    rounds them to milliseconds, which moves latencies by a millisecond and can
    reorder events. DuckDB's `timestamp` already holds microseconds.
-#}
{% macro timestamp_type() -%}
    {{ return(adapter.dispatch('timestamp_type', 'access_analytics')()) }}
{%- endmacro %}

{% macro duckdb__timestamp_type() -%}
    timestamp
{%- endmacro %}

{% macro trino__timestamp_type() -%}
    timestamp(6)
{%- endmacro %}
