{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Valid access events, typed, one row per event_id: the earliest-received copy of
    each. Incremental by ingest partition: a run re-reads the partitions from
    the lookback cutoff on and replaces them; an event_id kept from an older
    partition stays kept there.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__access_events') }}

),

ranked as (

    {{ access_analytics.ranked_valid_copies('validated', 'event_id', this, cutoff) }}

),

final as (

    select
        event_id,
        vin,
        cast(event_at as {{ access_analytics.timestamp_type() }}) as event_at,
        cast(received_at as {{ access_analytics.timestamp_type() }}) as received_at,
        event_type,
        key_id,
        key_type,
        radio,
        cast(rssi_dbm as smallint) as rssi_dbm,
        cast(distance_m as real) as distance_m,
        lock_source,
        detail,
        firmware_version,
        ingest_date,
        source_file
    from ranked
    where
        copy_rank = 1
        and not is_kept_before

)

select * from final
