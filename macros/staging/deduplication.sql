{#-
    Incremental reading of the raw telemetry tables and de-duplication of
    at-least-once uploads.
-#}

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
    What became of each raw telemetry row of the ingest window: 'quarantined'
    when it breaks the contract, else 'kept' for the one copy of its id to
    keep (earliest received_at, then smallest file path, then row order) and
    'duplicate' for every other copy. An id already kept from an ingest day
    before the window, by an earlier incremental run, is a duplicate in every
    copy the window holds. Among valid rows only: validation comes first.
-#}
{% macro raw_row_status(id_column, cutoff) -%}
    case
        when quarantine_reason is not null then 'quarantined'
        when row_number() over (
            partition by {{ id_column }}, quarantine_reason is null
            order by received_at, source_file, source_row_number
        ) > 1 then 'duplicate'
        {%- if cutoff is not none %}
        when {{ id_column }} in (
            select kept.{{ id_column }}
            from {{ this }} as kept
            where kept.row_status = 'kept' and kept.ingest_date < date '{{ cutoff }}'
        ) then 'duplicate'
        {%- endif %}
        else 'kept'
    end
{%- endmacro %}


{#-
    The body of a base_raw__<table> model: every raw row of a telemetry table
    in the ingest window, read once, typed to the contract, with its source
    file and row, its quarantine reason and its row_status. `id_column`
    identifies copies of the same row. Before any row is read, the lake is
    checked against the contract and every file of the window is decoded
    (assert_raw_table_matches_contract), so the files checked are the files read.
-#}
{% macro raw_telemetry_rows(table_name, id_column) -%}
    {%- set cutoff = access_analytics.incremental_ingest_cutoff() -%}
    {%- do access_analytics.assert_raw_table_matches_contract(table_name, partitions_read=cutoff or 'all') -%}
with

source as (

    select
        *,
        {{ access_analytics.raw_source_file() }} as source_file,
        {{ access_analytics.raw_source_row_number() }} as source_row_number
    from {{ source('raw', table_name) }}
    where {{ access_analytics.ingest_window_filter(cutoff, 'cast(ingest_date as date)') }}

),

validated as (

    select
        *,
        {{ access_analytics.quarantine_reason(table_name) }} as quarantine_reason
    from source

),

final as (

    select
        {{ access_analytics.typed_raw_columns(table_name) }},
        cast(ingest_date as date) as ingest_date,
        source_file,
        source_row_number,
        quarantine_reason,
        {{ access_analytics.raw_row_status(id_column, cutoff) }} as row_status
    from validated

)

select * from final
{%- endmacro %}


{#-
    The body of a staging model over a base_raw__<table> model: the contract
    columns, ingest day and source file of the rows with one row_status
    (kept, duplicate or quarantined); quarantined rows also keep their
    position in the file and their reason.
-#}
{% macro raw_rows_with_status(table_name, row_status) -%}
with

base as (select * from {{ ref('base_raw__' ~ table_name) }}),

final as (

    select
        {{ access_analytics.raw_column_list(table_name) }},
        ingest_date,
        source_file
        {%- if row_status == 'quarantined' %},
        source_row_number,
        quarantine_reason
        {%- endif %}
    from base
    where row_status = '{{ row_status }}'

)

select * from final
{%- endmacro %}
