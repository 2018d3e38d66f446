{#-
    Helpers shared by the staging models of the two telemetry tables.
-#}

{#- The quarantine reason of a row: the first rule (in contract order) that the row breaks, else null. -#}
{% macro first_broken_rule(rules) -%}
    case
        {%- for rule in rules %}
        when {{ rule[1] }} then '{{ rule[0] }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- A required text column is missing when null or the empty string (no trimming, RAW_CONTRACT.md). -#}
{% macro is_missing_text(column_name) -%}
    ({{ column_name }} is null or {{ column_name }} = '')
{%- endmacro %}

{#- A value outside a list of accepted values; null passes (nullability is checked separately). -#}
{% macro is_not_listed(column_name, values) -%}
    ({{ column_name }} is not null and {{ column_name }} not in ({% for value in values %}'{{ value }}'{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}

{#- A value outside an inclusive range; null passes. NaN falls outside every range. -#}
{% macro is_outside_range(column_name, min_value, max_value) -%}
    ({{ column_name }} is not null and not ({{ column_name }} >= {{ min_value }} and {{ column_name }} <= {{ max_value }}))
{%- endmacro %}


{#-
    The lake file a raw row was read from, as its path inside the lake
    (raw/<table>/<partition>/<file>): the same string whatever the lake root
    or engine (DuckDB gives the globbed path, Trino a local:/// or s3:// URI).
-#}
{% macro raw_source_file() -%}
    regexp_extract({{ adapter.dispatch('raw_file_path', 'access_analytics')() }}, 'raw/[^/]+/[^/=]+=[^/]+/[^/]+$')
{%- endmacro %}

{% macro duckdb__raw_file_path() -%}
    filename
{%- endmacro %}

{% macro trino__raw_file_path() -%}
    "$path"
{%- endmacro %}

{#- The row's position in its file, where the engine exposes it (a tie-break among identical copies). -#}
{% macro raw_source_row_number() -%}
    {{ return(adapter.dispatch('raw_source_row_number', 'access_analytics')()) }}
{%- endmacro %}

{% macro duckdb__raw_source_row_number() -%}
    cast(file_row_number as bigint)
{%- endmacro %}

{% macro trino__raw_source_row_number() -%}
    cast(null as bigint)
{%- endmacro %}


{#-
    First ingest day an incremental run re-reads: the newest ingest day already
    in the model minus the lookback (var ingest_lookback_days), so files that
    land late in a recent partition are picked up. None on a full build.
-#}
{% macro incremental_ingest_cutoff() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest = run_query('select max(ingest_date) from ' ~ this).columns[0].values()[0] -%}
    {%- if newest is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set cutoff = newest - modules.datetime.timedelta(days=var('ingest_lookback_days') | int) -%}
    {{ return(cutoff.strftime('%Y-%m-%d')) }}
{%- endmacro %}

{#- `ingest_date >= cutoff` as SQL, or true on a full build. -#}
{% macro ingest_window_filter(cutoff, column_name='ingest_date') -%}
    {%- if cutoff is none -%}
        1 = 1
    {%- else -%}
        {{ column_name }} >= date '{{ cutoff }}'
    {%- endif -%}
{%- endmacro %}


{#-
    Valid rows of the ingest window, each ranked among the copies of its id:
    copy_rank 1 is the copy to keep (earliest received_at, then smallest file
    path, then row order). is_kept_before marks ids already kept from an ingest
    day before the window by an earlier incremental run: every copy in the
    window is then a duplicate.
-#}
{% macro ranked_valid_copies(validated_relation, id_column, kept_relation, cutoff) -%}
    select
        validated.*,
        row_number() over (
            partition by validated.{{ id_column }}
            order by validated.received_at, validated.source_file, validated.source_row_number
        ) as copy_rank,
        {%- if cutoff is none %}
        false as is_kept_before
        {%- else %}
        validated.{{ id_column }} in (
            select kept.{{ id_column }}
            from {{ kept_relation }} as kept
            where kept.ingest_date < date '{{ cutoff }}'
        ) as is_kept_before
        {%- endif %}
    from {{ validated_relation }} as validated
    where validated.quarantine_reason is null
        and {{ access_analytics.ingest_window_filter(cutoff, 'validated.ingest_date') }}
{%- endmacro %}
