{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Every dropped copy of a fob battery reading that was kept once already (a repeated
    upload of the same reading_id), so conservation can account for it.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__fob_battery_readings') }}

),

ranked as (

    {{ access_analytics.ranked_valid_copies('validated', 'reading_id', ref('stg_raw__fob_battery_readings'), cutoff) }}

),

final as (

    select
        reading_id,
        vin,
        fob_id,
        cast(read_at as {{ access_analytics.timestamp_type() }}) as read_at,
        cast(received_at as {{ access_analytics.timestamp_type() }}) as received_at,
        cast(voltage_mv as smallint) as voltage_mv,
        cast(temperature_c as real) as temperature_c,
        firmware_version,
        ingest_date,
        source_file
    from ranked
    where
        copy_rank > 1
        or is_kept_before

)

select * from final
