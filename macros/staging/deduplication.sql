{#-
    Incremental reading of the raw telemetry tables and de-duplication of
    at-least-once uploads.
-#}

{#-
    First ingest day an incremental run re-reads: the newest ingest day already
    in the model (its `column_name`) minus the lookback (var
    ingest_lookback_days), so files that land late in a recent partition are
    picked up. As 'YYYY-MM-DD', read before the model's query runs; none on a
    full build or while the model is empty.
-#}
{% macro incremental_ingest_cutoff(column_name='ingest_date') -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set newest = run_query('select max(' ~ column_name ~ ') from ' ~ this).columns[0].values()[0] -%}
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
    The body of a base_raw__<table> model: every raw row of a telemetry table
    in the ingest window, read once, typed to the contract, with its source
    file (and its key) and row and its quarantine reason. `id_column`
    identifies copies of the same row (see raw_source_row_number). Before any
    row is read, the lake is checked against the contract and every file of
    the window is decoded (assert_raw_table_matches_contract), so the files
    checked are the files read.

    Which copy of an id is kept is decided afterwards, by the narrow
    base_raw__<table>_later_copies model over this one: ranking every copy
    here, inside the one wide read, made the window carry every column and
    took longer than reading, validating and writing the rows.
-#}
{% macro raw_telemetry_rows(table_name, id_column) -%}
    {%- set cutoff = access_analytics.incremental_ingest_cutoff() -%}
    {%- do access_analytics.assert_raw_table_matches_contract(table_name, partitions_read=cutoff or 'all') -%}
with

source as (

    select
        *,
        {{ access_analytics.raw_source_file() }} as source_file,
        {{ access_analytics.raw_source_row_number(id_column) }} as source_row_number
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
        {{ access_analytics.raw_file_key('source_file') }} as source_file_key,
        source_row_number,
        quarantine_reason
    from validated

)

select * from final
{%- endmacro %}


{#-
    The valid raw rows of the ingest window that are not the copy of their id
    to keep, as the base_raw__<table>_later_copies model stores them: among
    the valid copies of an id (validation comes first) the one kept is the
    earliest received_at, then the smallest file path, then the earliest row
    in the file; every other copy is a later copy. An id kept from an ingest
    day before the window stays kept: its copies in the window are all later
    copies. Only the copies of ids that occur in the window are ranked, and
    only those in the window are returned (every copy on a full build).

    The window starts at this model's own newest ingest day minus the
    lookback. Later copies come from the base model's rows, so that day is
    never after the base model's cutoff: every partition the base model
    re-read is ranked again. The base relation is named twice, not through
    a CTE, so DuckDB does not materialize a copy of every row.
-#}
{% macro raw_later_copies(table_name, id_column) -%}
    {%- set cutoff = access_analytics.incremental_ingest_cutoff() -%}
with

rows_read as (select * from {{ ref('base_raw__' ~ table_name) }}),

valid_copies as (

    select
        {{ id_column }},
        received_at,
        ingest_date,
        source_file,
        source_file_key,
        source_row_number
    from rows_read
    where
        quarantine_reason is null
        {%- if cutoff is not none %}
        and {{ id_column }} in (
            select window_rows.{{ id_column }}
            from {{ ref('base_raw__' ~ table_name) }} as window_rows
            where window_rows.ingest_date >= date '{{ cutoff }}'
        )
        {%- endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by {{ id_column }}
            order by
                {%- if cutoff is not none %}
                case when ingest_date < date '{{ cutoff }}' then 0 else 1 end,
                {%- endif %}
                received_at, source_file, source_row_number
        ) as copy_rank
    from valid_copies

),

final as (

    select
        {{ id_column }},
        ingest_date,
        source_file,
        source_file_key,
        source_row_number
    from ranked
    where
        copy_rank > 1
        and {{ access_analytics.ingest_window_filter(cutoff) }}

)

select * from final
{%- endmacro %}


{#-
    Every raw row of a telemetry table with its row_status: quarantined when
    it breaks the contract, duplicate when it is a later copy of its id (see
    raw_later_copies), else kept. A select over the base_raw__<table> model
    joined to its later copies, for the staging models and the data-quality
    union. A row is identified as in same_raw_row.
-#}
{% macro raw_rows_classified(table_name) -%}
    select
        rows_read.*,
        case
            when rows_read.quarantine_reason is not null then 'quarantined'
            when later_copies.source_file_key is not null then 'duplicate'
            else 'kept'
        end as row_status
    from {{ ref('base_raw__' ~ table_name) }} as rows_read
    left join {{ ref('base_raw__' ~ table_name ~ '_later_copies') }} as later_copies
        on {{ access_analytics.same_raw_row('rows_read', 'later_copies') }}
{%- endmacro %}


{#-
    The body of a staging model over a base_raw__<table> model: the contract
    columns, ingest day and source file of the rows with one row_status
    (kept, duplicate or quarantined, as raw_rows_classified tells them
    apart); quarantined rows also keep their position in the file and their
    reason. Each status is written as its own join so the engine filters
    before it joins: kept rows are the valid rows without a later copy,
    duplicates the rows with one, quarantined rows need no join.
-#}
{% macro raw_rows_with_status(table_name, row_status) -%}
with

rows_read as (select * from {{ ref('base_raw__' ~ table_name) }}),

{%- if row_status != 'quarantined' %}

later_copies as (select * from {{ ref('base_raw__' ~ table_name ~ '_later_copies') }}),
{%- endif %}

final as (

    select
        {{ access_analytics.raw_column_list(table_name, 'rows_read') }},
        rows_read.ingest_date,
        rows_read.source_file
        {%- if row_status == 'quarantined' %},
        rows_read.source_row_number,
        rows_read.quarantine_reason
        {%- endif %}
    from rows_read
    {%- if row_status == 'kept' %}
    left join later_copies
        on {{ access_analytics.same_raw_row('rows_read', 'later_copies') }}
    where rows_read.quarantine_reason is null and later_copies.source_file_key is null
    {%- elif row_status == 'duplicate' %}
    inner join later_copies
        on {{ access_analytics.same_raw_row('rows_read', 'later_copies') }}
    {%- else %}
    where rows_read.quarantine_reason is not null
    {%- endif %}

)

select * from final
{%- endmacro %}


{#-
    Join condition: `left` and `right` are the same raw row, by its ingest
    day, file key and row number (see raw_file_key): fixed-width columns,
    cheap to read and hash on every scan of the staging views.
-#}
{% macro same_raw_row(left, right) -%}
    {{ left }}.ingest_date = {{ right }}.ingest_date
            and {{ left }}.source_file_key = {{ right }}.source_file_key
            and {{ left }}.source_row_number = {{ right }}.source_row_number
{%- endmacro %}
