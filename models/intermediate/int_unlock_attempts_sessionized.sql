{{ config(materialized='incremental', unique_key='attempt_id') }}

{#-
    Passive-entry attempts (docs/metrics.md#passive-entry-unlock-attempts). Each vehicle's kept events are
    ordered by (event_at, event_id); every unlock_zone_entered starts an attempt
    whose window runs to (not including) the vehicle's next
    unlock_zone_entered, limited to unlock_timeout_s after the start
    (inclusive). Window functions number the events and count the starts seen
    so far, so every event belongs to the segment of the latest start before
    it: one equi-join on (vin, segment) instead of a range self-join.
-#}

with

events as (select * from {{ ref('stg_raw__access_events') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

{{ access_analytics.session_events(
    ['vin', 'event_id', 'event_at', 'event_type', 'key_id', 'key_type', 'radio', 'firmware_version', 'ingest_date'],
    "events.event_type in ('unlock_zone_entered', 'handle_pulled') or (events.event_type = 'door_unlocked' and events.lock_source = 'passive')",
    ref('stg_raw__access_events'),
) }},

numbered as (

    select
        *,
        row_number() over (
            partition by vin order by event_at, event_id
        ) as event_order,
        sum(case when event_type = 'unlock_zone_entered' then 1 else 0 end) over (
            partition by vin order by event_at, event_id
            rows between unbounded preceding and current row
        ) as segment_number
    from session_events

),

starts as (

    select
        vin,
        segment_number,
        event_order as start_order,
        event_id as attempt_id,
        event_at as attempt_at,
        cast(event_at as date) as attempt_date,
        key_id,
        key_type,
        radio,
        firmware_version,
        ingest_date as start_ingest_date,
        -- the next start cuts this window when it falls inside the time limit
        lead(event_at) over (partition by vin order by event_at, event_id) as next_start_at,
        lead(ingest_date) over (
            partition by vin order by event_at, event_id
        ) as next_start_ingest_date
    from numbered
    where event_type = 'unlock_zone_entered'

),

window_events as (

    select
        starts.attempt_id,
        numbered.event_type,
        numbered.event_order,
        numbered.event_at,
        numbered.ingest_date
    from starts
    cross join thresholds
    inner join numbered
        on
            starts.vin = numbered.vin
            and starts.segment_number = numbered.segment_number
            and starts.start_order < numbered.event_order
    where
        numbered.event_at
        <= {{ access_analytics.add_seconds('starts.attempt_at', 'thresholds.unlock_timeout_s') }}

),

window_summary as (

    select
        attempt_id,
        min(case when event_type = 'door_unlocked' then event_order end) as unlock_order,
        -- events are ordered by event_at first, so the earliest time is the first unlock's
        min(case when event_type = 'door_unlocked' then event_at end) as unlocked_at,
        min(case when event_type = 'handle_pulled' then event_order end) as first_handle_order,
        max(ingest_date) as window_ingest_date
    from window_events
    group by attempt_id

),

final as (

    select
        starts.attempt_id,
        starts.vin,
        starts.attempt_at,
        starts.attempt_date,
        starts.key_id,
        starts.key_type,
        starts.radio,
        starts.firmware_version,
        case
            when window_summary.unlock_order is not null then 'unlocked' else 'timed_out'
        end as outcome,
        window_summary.unlocked_at,
        case
            when window_summary.unlock_order is not null
                then {{ access_analytics.millis_between('starts.attempt_at', 'window_summary.unlocked_at') }}
        end as latency_ms,
        coalesce(
            window_summary.first_handle_order is not null
            and (
                window_summary.unlock_order is null
                or window_summary.first_handle_order < window_summary.unlock_order
            ),
            false
        ) as handle_wait,
        greatest(
            starts.start_ingest_date,
            coalesce(window_summary.window_ingest_date, starts.start_ingest_date),
            case
                when
                    starts.next_start_at
                    <= {{ access_analytics.add_seconds('starts.attempt_at', 'thresholds.unlock_timeout_s') }}
                    then starts.next_start_ingest_date
                else starts.start_ingest_date
            end
        ) as source_ingest_date
    from starts
    cross join thresholds
    left join window_summary
        on starts.attempt_id = window_summary.attempt_id
    {{ access_analytics.where_session_is_rebuilt('starts.vin', 'starts.attempt_date') }}

)

select * from final
