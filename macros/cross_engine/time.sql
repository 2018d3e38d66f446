{#-
    Whole milliseconds from start_ts to end_ts, truncated toward zero.
    Timestamps carry microseconds, so the difference is taken in microseconds
    and truncated once: rounding first would move values across the 5000 ms SLO.
-#}
{% macro millis_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('millis_between', 'access_analytics')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro duckdb__millis_between(start_ts, end_ts) -%}
    cast(trunc((epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000) as bigint)
{%- endmacro %}

{#-
    Trino's date_diff('millisecond') floors each timestamp to milliseconds before
    subtracting (0.000999 to 0.001000 gives 1 ms, not 0), and it has no
    microsecond unit, so the difference is taken on exact epoch microseconds and
    truncated toward zero by bigint division.
-#}
{% macro trino__millis_between(start_ts, end_ts) -%}
    (({{ access_analytics.trino__epoch_microseconds(end_ts) }} - {{ access_analytics.trino__epoch_microseconds(start_ts) }}) / 1000)
{%- endmacro %}

{#-
    Exact microseconds since the epoch of a timestamp: whole seconds by date_diff,
    the fraction from the timestamp(6) text (date_format rounds to milliseconds).
-#}
{% macro trino__epoch_microseconds(ts) -%}
    (date_diff('second', timestamp '1970-01-01 00:00:00', date_trunc('second', {{ ts }})) * 1000000
        + cast(substr(cast(cast({{ ts }} as timestamp(6)) as varchar), 21, 6) as bigint))
{%- endmacro %}


{#- Whole seconds elapsed, as a double with sub-second precision (for window limits). -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('seconds_between', 'access_analytics')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
    ((epoch_us({{ end_ts }}) - epoch_us({{ start_ts }})) / 1000000.0)
{%- endmacro %}

{% macro trino__seconds_between(start_ts, end_ts) -%}
    (cast({{ access_analytics.trino__epoch_microseconds(end_ts) }} - {{ access_analytics.trino__epoch_microseconds(start_ts) }} as double) / 1000000.0)
{%- endmacro %}


{#- Timestamp plus a whole number of seconds (may be negative). -#}
{% macro add_seconds(ts, seconds) -%}
    {{ return(adapter.dispatch('add_seconds', 'access_analytics')(ts, seconds)) }}
{%- endmacro %}

{% macro duckdb__add_seconds(ts, seconds) -%}
    ({{ ts }} + to_seconds(cast({{ seconds }} as bigint)))
{%- endmacro %}

{% macro trino__add_seconds(ts, seconds) -%}
    date_add('second', cast({{ seconds }} as bigint), {{ ts }})
{%- endmacro %}


{#- Date plus a whole number of days (may be negative). -#}
{% macro add_days(date_expr, days) -%}
    {{ return(adapter.dispatch('add_days', 'access_analytics')(date_expr, days)) }}
{%- endmacro %}

{% macro duckdb__add_days(date_expr, days) -%}
    cast({{ date_expr }} + to_days(cast({{ days }} as integer)) as date)
{%- endmacro %}

{% macro trino__add_days(date_expr, days) -%}
    date_add('day', cast({{ days }} as bigint), {{ date_expr }})
{%- endmacro %}


{#- Whole days from start_date to end_date. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'access_analytics')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro trino__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}


{#- One row per day from start_date to end_date inclusive, in a column `day` (arguments are SQL date expressions). -#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'access_analytics')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__date_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as date) as day
{%- endmacro %}

{% macro trino__date_spine(start_date, end_date) -%}
    select days.day
    from unnest(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval '1' day)) as days (day)
{%- endmacro %}
