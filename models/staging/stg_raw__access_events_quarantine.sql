{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Every raw access event that breaks RAW_CONTRACT.md, with the first rule it
    breaks, its ingest day and its file. Values that do not fit the contract
    type are kept as null next to the reason.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__access_events') }}

),

final as (

    select
        cast(event_id as varchar) as event_id,
        cast(vin as varchar) as vin,
        {{ access_analytics.safe_cast('event_at', 'timestamp') }} as event_at,
        {{ access_analytics.safe_cast('received_at', 'timestamp') }} as received_at,
        cast(event_type as varchar) as event_type,
        cast(key_id as varchar) as key_id,
        cast(key_type as varchar) as key_type,
        cast(radio as varchar) as radio,
        {{ access_analytics.safe_cast('rssi_dbm', 'smallint') }} as rssi_dbm,
        {{ access_analytics.safe_cast('distance_m', 'real') }} as distance_m,
        cast(lock_source as varchar) as lock_source,
        cast(detail as varchar) as detail,
        cast(firmware_version as varchar) as firmware_version,
        ingest_date,
        source_file,
        source_row_number,
        quarantine_reason
    from validated
    where
        quarantine_reason is not null
        and {{ access_analytics.ingest_window_filter(cutoff) }}

)

select * from final
