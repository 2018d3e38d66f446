{#-
    Key-fob battery metrics per reading day by model, region and cell_lot and
    every roll-up of them (a cube, 'All' on rolled-up dimensions). The median
    is taken over the fob-day medians of each slice. is_complete_day flags
    the days whose readings are complete (int_complete_days).
-#}

{%- set dimensions = ['model', 'region', 'cell_lot'] %}

with

fob_days as (select * from {{ ref('fct_fob_battery_daily') }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

complete_days as (select * from {{ ref('int_complete_days') }}),

fob_days_of_vehicles as (

    select
        fob_days.reading_date,
        fob_days.cell_lot,
        fob_days.voltage_comp_mv_median,
        vehicles.model,
        vehicles.region
    from fob_days
    left join vehicles
        on fob_days.vehicle_key = vehicles.vehicle_key

),

members as (

    select
        fob_days_of_vehicles.reading_date,
        {{ access_analytics.slice_members(dimensions) }}
        fob_days_of_vehicles.voltage_comp_mv_median,
        case
            when fob_days_of_vehicles.voltage_comp_mv_median < thresholds.battery_replace_soon_mv then 1
            else 0
        end as is_below_replace_soon
    from fob_days_of_vehicles
    cross join thresholds

),

sliced as (

    select
        reading_date as metric_date,
        {{ access_analytics.slice_labels(dimensions) }}
        count(*) as fobs_reporting,
        {{ access_analytics.median('voltage_comp_mv_median') }} as voltage_comp_mv_median,
        count(case when is_below_replace_soon = 1 then 1 end) as fobs_below_2700
    from members
    group by reading_date, cube({{ dimensions | join(', ') }})

),

sliced_days as (

    {{ access_analytics.with_complete_day('sliced', 'fob_battery_readings') }}

),

final as (

    select -- noqa: ST06
        metric_date,
        model,
        region,
        cell_lot,
        fobs_reporting,
        cast(voltage_comp_mv_median as double) as voltage_comp_mv_median,
        fobs_below_2700,
        cast(fobs_below_2700 as double) / fobs_reporting as share_below_2700,
        is_complete_day
    from sliced_days

)

select * from final
