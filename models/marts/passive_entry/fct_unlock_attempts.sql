{{ config(materialized='incremental', unique_key='attempt_id') }}

{#- One row per passive-entry attempt, pseudonymized, with vehicle attributes. -#}

with

attempts as (select * from {{ ref('int_unlock_attempts_sessionized') }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

selected_attempts as (

    {{ access_analytics.sessions_to_write('attempts', 'attempt_id') }}

),

final as (

    select
        selected_attempts.attempt_id,
        {{ access_analytics.pseudonym('selected_attempts.vin') }} as vehicle_key,
        selected_attempts.attempt_at,
        selected_attempts.attempt_date,
        selected_attempts.key_type,
        selected_attempts.radio,
        selected_attempts.firmware_version,
        {{ access_analytics.vehicle_attributes() }}
        selected_attempts.outcome,
        selected_attempts.latency_ms,
        selected_attempts.handle_wait,
        selected_attempts.unlocked_at,
        selected_attempts.source_ingest_date
    from selected_attempts
    left join vehicles
        on selected_attempts.vin = vehicles.vin

)

select * from final
