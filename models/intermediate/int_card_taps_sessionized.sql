{{ config(materialized='incremental', unique_key='tap_id') }}

{#-
    Key-card taps (docs/metrics.md#key-card-taps). Every nfc_tapped starts
    a tap; its window is the vehicle's later events (order by event_at,
    event_id) up to card_tap_window_s after it (inclusive), not cut by another
    tap. The tap's unlock is the first later door_unlocked with lock_source
    'card': found with a running minimum over the following rows.
-#}

with

events as (select * from {{ ref('stg_raw__access_events') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

{{ access_analytics.session_events(
    ['vin', 'event_id', 'event_at', 'event_type', 'key_id', 'firmware_version', 'ingest_date'],
    "events.event_type = 'nfc_tapped' or (events.event_type = 'door_unlocked' and events.lock_source = 'card')",
    ref('stg_raw__access_events'),
) }},

numbered as (

    select
        *,
        row_number() over (partition by vin order by event_at, event_id) as event_order
    from session_events

),

with_next_unlock as (

    select
        *,
        min(case when event_type = 'door_unlocked' then event_order end) over (
            partition by vin order by event_at, event_id
            rows between 1 following and unbounded following
        ) as next_unlock_order
    from numbered

),

taps as (

    select
        taps.event_id as tap_id,
        taps.vin,
        taps.event_at as tapped_at,
        cast(taps.event_at as date) as tap_date,
        taps.key_id,
        taps.firmware_version,
        taps.ingest_date as tap_ingest_date,
        case
            when
                unlocks.event_at
                <= {{ access_analytics.add_seconds('taps.event_at', 'thresholds.card_tap_window_s') }}
                then unlocks.event_at
        end as unlocked_at,
        unlocks.ingest_date as unlock_ingest_date
    from with_next_unlock as taps
    cross join thresholds
    left join numbered as unlocks
        on
            taps.vin = unlocks.vin
            and taps.next_unlock_order = unlocks.event_order
    where taps.event_type = 'nfc_tapped'

),

final as (

    select
        tap_id,
        vin,
        tapped_at,
        tap_date,
        key_id,
        firmware_version,
        case when unlocked_at is not null then 'unlocked' else 'no_unlock' end as outcome,
        unlocked_at,
        case
            when unlocked_at is not null
                then {{ access_analytics.millis_between('tapped_at', 'unlocked_at') }}
        end as latency_ms,
        case
            when unlocked_at is not null then greatest(tap_ingest_date, unlock_ingest_date)
            else tap_ingest_date
        end as source_ingest_date
    from taps
    {{ access_analytics.where_session_is_rebuilt('taps.vin', 'taps.tap_date') }}

)

select * from final
