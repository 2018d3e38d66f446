{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{{ access_analytics.assert_raw_table_matches_contract('fob_battery_readings') }}

{#-
    Every raw fob battery reading of the ingest window, read once: typed to the contract,
    with its source file, the first contract rule it breaks (quarantine_reason)
    and what became of it (row_status: kept, duplicate or quarantined). The
    kept, duplicate and quarantined staging models select from here.
    Incremental by ingest partition: a run re-reads the partitions from the
    lookback cutoff on and replaces them.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

source as (

    select
        *,
        {{ access_analytics.raw_source_file() }} as source_file,
        {{ access_analytics.raw_source_row_number() }} as source_row_number
    from {{ source('raw', 'fob_battery_readings') }}
    where {{ access_analytics.ingest_window_filter(cutoff, 'cast(ingest_date as date)') }}

),

validated as (

    select
        *,
        {{ access_analytics.quarantine_reason('fob_battery_readings') }} as quarantine_reason
    from source

),

final as (

    select
        {{ access_analytics.typed_raw_columns('fob_battery_readings') }},
        cast(ingest_date as date) as ingest_date,
        source_file,
        source_row_number,
        quarantine_reason,
        {{ access_analytics.raw_row_status('reading_id', cutoff) }} as row_status
    from validated

)

select * from final
