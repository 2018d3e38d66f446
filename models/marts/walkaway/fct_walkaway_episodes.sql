{{ config(materialized='incremental', unique_key='episode_id') }}

{#- One row per walk-away lock episode, pseudonymized, with vehicle attributes. -#}

with

episodes as (select * from {{ ref('int_walkaway_episodes_sessionized') }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

selected_episodes as (

    {{ access_analytics.sessions_to_write('episodes', 'episode_id') }}

),

final as (

    select
        selected_episodes.episode_id,
        {{ access_analytics.pseudonym('selected_episodes.vin') }} as vehicle_key,
        selected_episodes.started_at,
        selected_episodes.episode_date,
        selected_episodes.key_type,
        selected_episodes.radio,
        selected_episodes.firmware_version,
        {{ access_analytics.vehicle_attributes() }}
        selected_episodes.outcome,
        selected_episodes.outcome <> 'suppressed' as is_eligible,
        selected_episodes.suppression_reason,
        selected_episodes.time_to_lock_ms,
        selected_episodes.resolved_at,
        selected_episodes.resolving_event_type,
        selected_episodes.source_ingest_date
    from selected_episodes
    left join vehicles
        on selected_episodes.vin = vehicles.vin

)

select * from final
