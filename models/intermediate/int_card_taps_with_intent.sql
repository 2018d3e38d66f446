{{ config(materialized='incremental', unique_key='tap_id') }}

{#-
    Key-card taps with their intent (docs/metrics.md#key-card-taps): the
    vehicle's lock state just before the tap. The state is set by the
    vehicle's latest door_locked (locked) or door_unlocked / door_opened
    (unlocked: a door can only open on an unlocked car, and opening it from
    inside releases a drive-away lock without any door_unlocked) whose event_at
    is strictly earlier than the tap's; events at the tap's own instant do not
    count, and among state events at the same instant the last in event order
    (event_id) wins. A tap on a locked vehicle is an 'unlock' tap, on an
    unlocked one a 'lock' tap, and 'unknown' when the vehicle has no earlier
    state event.

    The state may come from any earlier day, so a late state event can change
    the intent of the vehicle's taps days after it: an incremental run
    rewrites the taps rebuilt since the watermark and every tap of a vehicle
    after the earliest state event that arrived since the watermark, reading
    the vehicle's state events from the latest one before its first rewritten
    tap.
-#}

with

taps as (select * from {{ ref('int_card_taps_sessionized') }}),

events as (select * from {{ ref('stg_raw__access_events') }}),

state_events as (

    select
        vin,
        event_id,
        event_at,
        event_type,
        ingest_date
    from events
    where event_type in ('door_locked', 'door_unlocked', 'door_opened')

),

{% if is_incremental() -%}

changed_vehicles as (

    -- the earliest state event of each vehicle that arrived since the watermark
    select
        vin,
        min(event_at) as changed_from
    from state_events
    where ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
    group by vin

),

selected_taps as (

    select taps.*
    from taps
    left join changed_vehicles
        on taps.vin = changed_vehicles.vin
    where
        taps.source_ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
        or taps.tapped_at > changed_vehicles.changed_from

),

first_taps as (

    select
        vin,
        min(tapped_at) as first_tapped_at
    from selected_taps
    group by vin

),

state_anchors as (

    -- older state events cannot decide any selected tap
    select
        state_events.vin,
        max(state_events.event_at) as anchor_at
    from state_events
    inner join first_taps
        on state_events.vin = first_taps.vin
    where state_events.event_at < first_taps.first_tapped_at
    group by state_events.vin

),

read_state_events as (

    select state_events.*
    from state_events
    inner join first_taps
        on state_events.vin = first_taps.vin
    left join state_anchors
        on state_events.vin = state_anchors.vin
    where state_events.event_at >= coalesce(state_anchors.anchor_at, first_taps.first_tapped_at)

),

{%- else %}

selected_taps as (select * from taps),

read_state_events as (select * from state_events),

{%- endif %}

numbered_states as (

    select
        vin,
        event_type,
        event_at,
        event_id,
        row_number() over (partition by vin order by event_at, event_id) as state_order
    from read_state_events

),

timeline as (

    -- at the same instant a tap sorts before state events, so they are not before it
    select
        vin,
        event_at,
        1 as instant_rank,
        event_id,
        state_order,
        cast(null as varchar) as tap_id
    from numbered_states
    union all
    select
        vin,
        tapped_at as event_at,
        0 as instant_rank,
        tap_id as event_id,
        cast(null as bigint) as state_order,
        tap_id
    from selected_taps

),

latest_states as (

    select
        tap_id,
        vin,
        max(state_order) over (
            partition by vin order by event_at, instant_rank, event_id
            rows between unbounded preceding and current row
        ) as state_order
    from timeline

),

final as (

    select
        selected_taps.tap_id,
        selected_taps.vin,
        selected_taps.tapped_at,
        selected_taps.tap_date,
        selected_taps.key_id,
        selected_taps.firmware_version,
        selected_taps.outcome,
        selected_taps.unlocked_at,
        selected_taps.latency_ms,
        selected_taps.source_ingest_date,
        numbered_states.event_type as lock_state_event_type,
        case
            when numbered_states.event_type = 'door_locked' then 'unlock'
            when numbered_states.event_type in ('door_unlocked', 'door_opened') then 'lock'
            else 'unknown'
        end as tap_intent
    from selected_taps
    inner join latest_states
        on selected_taps.tap_id = latest_states.tap_id
    left join numbered_states
        on
            latest_states.vin = numbered_states.vin
            and latest_states.state_order = numbered_states.state_order

)

select * from final
