{#-
    Key-card tap metrics per day by model, region and firmware_version and
    every roll-up of them (a cube, 'All' on rolled-up dimensions).
-#}

with

taps as (

    select * from {{ ref('fct_card_taps') }}

),

members as (

    select
        tap_date,
        {{ access_analytics.slice_member('model') }} as model, -- noqa: RF04
        {{ access_analytics.slice_member('region') }} as region,
        {{ access_analytics.slice_member('firmware_version') }} as firmware_version,
        outcome,
        latency_ms
    from taps

),

sliced as (

    select
        tap_date as metric_date,
        {{ access_analytics.slice_label('model') }} as model, -- noqa: RF04
        {{ access_analytics.slice_label('region') }} as region,
        {{ access_analytics.slice_label('firmware_version') }} as firmware_version,
        count(*) as taps,
        count(case when outcome = 'unlocked' then 1 end) as unlocked,
        {{ access_analytics.percentile_cont('latency_ms', 0.5) }} as latency_p50_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.95) }} as latency_p95_ms
    from members
    group by tap_date, cube(model, region, firmware_version)

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
        cast(latency_p95_ms as double) as latency_p95_ms
    from sliced

)

select * from final
