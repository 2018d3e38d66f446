{#-
    The raw contract as models/staging/_staging__sources.yml states it: every
    raw table's columns, their types and the validation rules in column meta.
    Staging derives its typed columns and its quarantine rules from here, so
    the contract is written down once.

    The graph is only populated when dbt executes; while it parses, these
    macros return empty lists (the SQL is not run then).
-#}

{#- The source node of a raw table (none while parsing). -#}
{% macro raw_source_node(table_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(graph.sources['source.' ~ project_name ~ '.raw.' ~ table_name]) }}
{%- endmacro %}

{#- The contract's columns of a raw table, in order, without its partition column. -#}
{% macro raw_contract_columns(table_name) -%}
    {%- set node = access_analytics.raw_source_node(table_name) -%}
    {%- if node is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set partition_column = node.meta.partition_column -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() if column.name != partition_column -%}
        {%- do columns.append(column) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The accepted values the contract lists for a column (empty while parsing). -#}
{% macro contract_values(table_name, column_name) -%}
    {%- set node = access_analytics.raw_source_node(table_name) -%}
    {%- if node is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(node.columns[column_name].meta.get('accepted_values', [])) }}
{%- endmacro %}

{#-
    The contract's column names of a raw table, comma separated, for a select
    list; each qualified with `relation_alias` when one is given.
-#}
{% macro raw_column_list(table_name, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- for column in access_analytics.raw_contract_columns(table_name) -%}
        {{ prefix }}{{ column.name }}{{ ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#-
    Every contract column cast to its contract type. Telemetry is cast leniently
    (a value that does not fit becomes null; such a row is quarantined for the
    rule it breaks); registries are trusted and cast strictly, so a bad
    registry value fails the build.
-#}
{% macro typed_raw_columns(table_name, strict=false) -%}
    {%- for column in access_analytics.raw_contract_columns(table_name) -%}
        {%- set data_type = access_analytics.timestamp_type() if column.data_type == 'timestamp' else column.data_type -%}
        {%- if strict -%}
            cast({{ column.name }} as {{ data_type }}) as {{ column.name }}
        {%- else -%}
            {{ access_analytics.safe_cast(column.name, data_type) }} as {{ column.name }}
        {%- endif -%}
        {{ ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#-
    The quarantine reason of a raw telemetry row: the first contract rule it
    breaks, in contract order, else null. Each rule is built from the column
    meta of the source (required, accepted_values, pattern, accepted_range)
    and the table's event_time_column against received_at.
-#}
{% macro quarantine_reason(table_name) -%}
    {%- set node = access_analytics.raw_source_node(table_name) -%}
    {%- set columns = access_analytics.raw_contract_columns(table_name) -%}
    {%- set missing, unknown, malformed, out_of_range = [], [], [], [] -%}
    {%- for column in columns -%}
        {%- set meta = column.meta -%}
        {%- if meta.get('required') -%}
            {%- do missing.append(access_analytics.is_missing(column.name, column.data_type)) -%}
        {%- endif -%}
        {%- if meta.get('accepted_values') -%}
            {%- do unknown.append(access_analytics.is_not_listed(column.name, meta.accepted_values)) -%}
        {%- endif -%}
        {%- if meta.get('pattern') -%}
            {%- do malformed.append('not ' ~ access_analytics.regexp_full_match(column.name, meta.pattern)) -%}
        {%- endif -%}
        {%- if meta.get('accepted_range') -%}
            {%- do out_of_range.append(access_analytics.is_outside_range(column.name, meta.accepted_range[0], meta.accepted_range[1])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set rules = [
        ('missing_required', missing),
        ('unknown_value', unknown),
        ('malformed_id', malformed),
        ('out_of_range', out_of_range),
    ] -%}
    {%- if node is not none -%}
        {%- set event_time = node.meta.event_time_column -%}
        {%- do rules.append(('future_event', [
            event_time ~ ' > ' ~ access_analytics.add_seconds('received_at', node.meta.future_event_tolerance_s)]
        )) -%}
        {%- do rules.append(('too_late', [
            event_time ~ ' < ' ~ access_analytics.add_seconds('received_at', -86400 * node.meta.too_late_after_days)]
        )) -%}
    {%- endif -%}
    case
        {%- for reason, conditions in rules if conditions %}
        when {{ conditions | join('\n            or ') }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- A required value is missing when null, or for text also the empty string (no trimming). -#}
{% macro is_missing(column_name, data_type) -%}
    {%- if data_type == 'varchar' -%}
        ({{ column_name }} is null or {{ column_name }} = '')
    {%- else -%}
        {{ column_name }} is null
    {%- endif -%}
{%- endmacro %}

{#- A value outside a list of accepted values; null passes (nullability is checked separately). -#}
{% macro is_not_listed(column_name, values) -%}
    ({{ column_name }} is not null and {{ column_name }} not in ({% for value in values %}{{ access_analytics.sql_string(value) }}{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}

{#- A value outside an inclusive range; null passes. NaN falls outside every range. -#}
{% macro is_outside_range(column_name, min_value, max_value) -%}
    ({{ column_name }} is not null and not ({{ column_name }} >= {{ min_value }} and {{ column_name }} <= {{ max_value }}))
{%- endmacro %}

{#-
    The body of a registry staging model: the rows of the newest snapshot of a
    registry (older snapshots are history, not truth), cast strictly to the
    contract's types, with the snapshot date.
-#}
{% macro newest_registry_snapshot(table_name) -%}
with

source as (select * from {{ source('raw', table_name) }}),

final as (

    select
        {{ access_analytics.typed_raw_columns(table_name, strict=true) }},
        cast(snapshot_date as date) as snapshot_date
    from source
    where cast(snapshot_date as date) = (select max(cast(snapshot_date as date)) from source)

)

select * from final
{%- endmacro %}
