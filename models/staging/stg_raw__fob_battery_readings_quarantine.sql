{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Every raw fob battery reading that breaks RAW_CONTRACT.md, with the first rule it
    breaks, its ingest day and its file. Values that do not fit the contract
    type are kept as null next to the reason.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__fob_battery_readings') }}

),

final as (

    select
        cast(reading_id as varchar) as reading_id,
        cast(vin as varchar) as vin,
        cast(fob_id as varchar) as fob_id,
        {{ access_analytics.safe_cast('read_at', 'timestamp') }} as read_at,
        {{ access_analytics.safe_cast('received_at', 'timestamp') }} as received_at,
        {{ access_analytics.safe_cast('voltage_mv', 'smallint') }} as voltage_mv,
        {{ access_analytics.safe_cast('temperature_c', 'real') }} as temperature_c,
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
