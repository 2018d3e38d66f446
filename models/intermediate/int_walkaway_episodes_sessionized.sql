{{ config(materialized='incremental', unique_key='episode_id') }}

{#-
    Walk-away lock episodes (docs/metrics.md#walk-away-lock-episodes). Every lock_zone_exited starts
    an episode that resolves on the vehicle's first later event (order by
    event_at, event_id) that is a door_locked, walkaway_suppressed,
    unlock_zone_entered or lock_zone_exited, if that event is at most
    walkaway_window_s after the start (inclusive). Keeping only those event
    types, the resolving event is simply the next row: a lead() per vehicle.
-#}

with

events as (select * from {{ ref('stg_raw__access_events') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

{{ access_analytics.session_events(
    ['vin', 'event_id', 'event_at', 'event_type', 'key_id', 'key_type', 'radio', 'lock_source', 'detail', 'firmware_version', 'ingest_date'],
    "events.event_type in ('lock_zone_exited', 'unlock_zone_entered', 'door_locked', 'walkaway_suppressed')",
    ref('stg_raw__access_events'),
) }},

sequenced as (

    select
        *,
        lead(event_type) over (partition by vin order by event_at, event_id) as next_event_type,
        lead(event_at) over (partition by vin order by event_at, event_id) as next_event_at,
        lead(lock_source) over (partition by vin order by event_at, event_id) as next_lock_source,
        lead(detail) over (partition by vin order by event_at, event_id) as next_detail,
        lead(ingest_date) over (partition by vin order by event_at, event_id) as next_ingest_date
    from session_events

),

resolved as (

    select
        sequenced.event_id as episode_id,
        sequenced.vin,
        sequenced.event_at as started_at,
        cast(sequenced.event_at as date) as episode_date,
        sequenced.key_id,
        sequenced.key_type,
        sequenced.radio,
        sequenced.firmware_version,
        sequenced.ingest_date as start_ingest_date,
        thresholds.walkaway_lock_slo_ms,
        -- the resolving event, when it falls inside the window
        case
            when
                sequenced.next_event_at
                <= {{ access_analytics.add_seconds('sequenced.event_at', 'thresholds.walkaway_window_s') }}
                then sequenced.next_event_type
        end as resolving_event_type,
        case
            when
                sequenced.next_event_at
                <= {{ access_analytics.add_seconds('sequenced.event_at', 'thresholds.walkaway_window_s') }}
                then sequenced.next_event_at
        end as resolved_at,
        sequenced.next_lock_source as resolving_lock_source,
        sequenced.next_detail as resolving_detail,
        sequenced.next_ingest_date
    from sequenced
    cross join thresholds
    where sequenced.event_type = 'lock_zone_exited'

),

classified as (

    select
        *,
        case
            when resolving_event_type = 'door_locked'
                then {{ access_analytics.millis_between('started_at', 'resolved_at') }}
        end as millis_to_lock
    from resolved

),

final as (

    select
        episode_id,
        vin,
        started_at,
        episode_date,
        key_id,
        key_type,
        radio,
        firmware_version,
        resolved_at,
        resolving_event_type,
        case
            when
                resolving_event_type = 'door_locked'
                and resolving_lock_source = 'walkaway'
                and millis_to_lock <= walkaway_lock_slo_ms
                then 'locked'
            when
                resolving_event_type = 'door_locked'
                and resolving_lock_source = 'walkaway'
                then 'locked_late'
            when resolving_event_type = 'door_locked' then 'manual_lock'
            when resolving_event_type = 'walkaway_suppressed' then 'suppressed'
            else 'not_locked'
        end as outcome,
        -- eligible for walk-away reliability: every episode but a deliberately suppressed one
        coalesce(resolving_event_type <> 'walkaway_suppressed', true) as is_eligible,
        case
            when resolving_event_type = 'walkaway_suppressed' then resolving_detail
        end as suppression_reason,
        case
            when resolving_event_type = 'door_locked' and resolving_lock_source = 'walkaway'
                then millis_to_lock
        end as time_to_lock_ms,
        case
            when resolved_at is not null
                then greatest(start_ingest_date, next_ingest_date)
            else start_ingest_date
        end as source_ingest_date
    from classified
    {{ access_analytics.where_session_is_rebuilt('classified.vin', 'classified.episode_date') }}

)

select * from final
