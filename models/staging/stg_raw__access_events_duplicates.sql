{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Every dropped copy of a access event that was kept once already (a repeated
    upload of the same event_id), so conservation can account for it.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__access_events') }}

),

ranked as (

    {{ access_analytics.ranked_valid_copies('validated', 'event_id', ref('stg_raw__access_events'), cutoff) }}

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
        copy_rank > 1
        or is_kept_before

)

select * from final
