{#-
    Fobs per health band and median drain by cell_lot, model and region and
    every roll-up of them (a cube, 'All' on rolled-up dimensions), from the
    health view of each fob as of its latest reporting day.
-#}

{%- set dimensions = ['cell_lot', 'model', 'region'] %}

with

fobs as (select * from {{ ref('dim_fob_health') }}),

members as (

    select
        {{ access_analytics.slice_members(dimensions) }}
        health_band,
        drain_mv_per_day
    from fobs

),

sliced as (

    select
        {{ access_analytics.slice_labels(dimensions) }}
        count(*) as fobs,
        count(case when health_band = 'healthy' then 1 end) as fobs_healthy,
        count(case when health_band = 'watch' then 1 end) as fobs_watch,
        count(case when health_band = 'replace_soon' then 1 end) as fobs_replace_soon,
        count(case when health_band = 'replace_now' then 1 end) as fobs_replace_now,
        count(drain_mv_per_day) as fobs_with_drain,
        {{ access_analytics.median('drain_mv_per_day') }} as drain_mv_per_day_median
    from members
    group by cube({{ dimensions | join(', ') }})

),

final as (

    select
        cell_lot,
        model,
        region,
        fobs,
        fobs_healthy,
        fobs_watch,
        fobs_replace_soon,
        fobs_replace_now,
        fobs_with_drain,
        cast(drain_mv_per_day_median as double) as drain_mv_per_day_median
    from sliced

)

select * from final
