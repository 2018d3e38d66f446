{#- Key-fob battery metrics of the whole fleet per UTC reading day. -#}

with

fob_days as (

    select * from {{ ref('fct_fob_battery_daily') }}

),

thresholds as (

    select * from {{ ref('metric_thresholds') }}

),

daily as (

    select
        fob_days.reading_date as metric_date,
        count(*) as fobs_reporting,
        {{ access_analytics.median('fob_days.voltage_comp_mv_median') }} as voltage_comp_mv_median,
        count(
            case
                when fob_days.voltage_comp_mv_median < thresholds.battery_replace_soon_mv then 1
            end
        ) as fobs_below_2700
    from fob_days
    cross join thresholds
    group by fob_days.reading_date

),

final as (

    select
        metric_date,
        fobs_reporting,
        cast(voltage_comp_mv_median as double) as voltage_comp_mv_median,
        fobs_below_2700,
        cast(fobs_below_2700 as double) / fobs_reporting as share_below_2700
    from daily

)

select * from final
