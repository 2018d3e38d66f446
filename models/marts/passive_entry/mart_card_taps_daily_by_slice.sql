{#-
    Key-card tap metrics per day by model, region and firmware_version and
    every roll-up of them (a cube, 'All' on rolled-up dimensions), with the
    taps by intent (unlock or lock) and whether the day is complete.
-#}

{%- set dimensions = ['model', 'region', 'firmware_version'] %}
{#- The latency percentiles share one state per slice (see percentile_cont). -#}
{%- set percentiles = [0.5, 0.95] %}

with

taps as (select * from {{ ref('fct_card_taps') }}),

complete_days as (select * from {{ ref('int_complete_days') }}),

members as (

    select
        tap_date,
        {{ access_analytics.slice_members(dimensions) }}
        outcome,
        -- 4 bytes per value in every grouping's percentile state (see percentile_cont)
        cast(latency_ms as integer) as latency_ms,
        tap_intent
    from taps

),

sliced as (

    select
        tap_date as metric_date,
        {{ access_analytics.slice_labels(dimensions) }}
        count(*) as taps,
        count(case when outcome = 'unlocked' then 1 end) as unlocked,
        {{ access_analytics.percentile_cont('latency_ms', 0.5, among=percentiles) }} as latency_p50_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.95, among=percentiles) }} as latency_p95_ms,
        count(case when tap_intent = 'unlock' then 1 end) as unlock_taps,
        count(case when tap_intent = 'unlock' and outcome = 'unlocked' then 1 end)
            as unlock_taps_succeeded,
        count(case when tap_intent = 'lock' then 1 end) as lock_taps
    from members
    group by tap_date, cube({{ dimensions | join(', ') }})

),

sliced_days as (

    {{ access_analytics.with_complete_day('sliced', 'access_events') }}

),

final as (

    select
        metric_date,
        model,
        region,
        firmware_version,
        taps,
        unlocked,
        {{ access_analytics.safe_ratio('unlocked', 'taps') }} as unlock_rate,
        cast(latency_p50_ms as double) as latency_p50_ms,
        cast(latency_p95_ms as double) as latency_p95_ms,
        unlock_taps,
        unlock_taps_succeeded,
        lock_taps,
        {{ access_analytics.safe_ratio('unlock_taps_succeeded', 'unlock_taps') }} as unlock_tap_success_rate,
        is_complete_day
    from sliced_days

)

select * from final
