{{ config(materialized='incremental', unique_key='tap_id') }}

{#- One row per key-card tap, pseudonymized, with vehicle attributes. -#}

with

taps as (select * from {{ ref('int_card_taps_sessionized') }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

selected_taps as (

    {{ access_analytics.sessions_to_write('taps', 'tap_id') }}

),

final as (

    select
        selected_taps.tap_id,
        {{ access_analytics.pseudonym('selected_taps.vin') }} as vehicle_key,
        selected_taps.tapped_at,
        selected_taps.tap_date,
        selected_taps.firmware_version,
        {{ access_analytics.vehicle_attributes() }}
        selected_taps.outcome,
        selected_taps.latency_ms,
        selected_taps.unlocked_at,
        selected_taps.source_ingest_date
    from selected_taps
    left join vehicles
        on selected_taps.vin = vehicles.vin

)

select * from final
