{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ingest_date',
        on_schema_change='fail',
    )
}}

{#-
    Valid fob battery readings, typed, one row per reading_id: the earliest-received copy of
    each. Incremental by ingest partition: a run re-reads the partitions from
    the lookback cutoff on and replaces them; an reading_id kept from an older
    partition stays kept there.
-#}
{%- set cutoff = access_analytics.incremental_ingest_cutoff() %}

with

validated as (

    select * from {{ ref('base_raw__fob_battery_readings') }}

),

ranked as (

    {{ access_analytics.ranked_valid_copies('validated', 'reading_id', this, cutoff) }}

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
        copy_rank = 1
        and not is_kept_before

)

select * from final
