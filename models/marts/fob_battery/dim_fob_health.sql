{#-
    The health view of every fob, as of the latest day it reported
    (docs/metrics.md#key-fob-battery-health): recent compensated voltage, drain slope, days to
    the low-voltage limit and the health band.
-#}

with

fob_days as (select * from {{ ref('fct_fob_battery_daily') }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

ranked_days as (

    select
        fob_days.*,
        max(fob_days.reading_date) over (partition by fob_days.fob_key) as last_reading_date,
        row_number() over (
            partition by fob_days.fob_key order by fob_days.reading_date desc
        ) as recency_rank
    from fob_days

),

latest_voltage as (

    select
        ranked_days.fob_key,
        cast({{ access_analytics.median('ranked_days.voltage_comp_mv_median') }} as double)
            as latest_voltage_comp_mv
    from ranked_days
    cross join thresholds
    where ranked_days.recency_rank <= thresholds.battery_latest_days
    group by ranked_days.fob_key

),

slope_window as (

    -- the calendar days ending on the latest reporting day; x is days before
    -- it (the slope does not depend on where x starts)
    select
        ranked_days.fob_key,
        cast(
            {{ access_analytics.days_between('ranked_days.last_reading_date', 'ranked_days.reading_date') }}
            as double
        ) as day_number,
        ranked_days.voltage_comp_mv_median
    from ranked_days
    cross join thresholds
    where
        {{ access_analytics.days_between('ranked_days.reading_date', 'ranked_days.last_reading_date') }}
        < thresholds.battery_slope_window_days

),

drain as (

    select
        slope_window.fob_key,
        count(*) as slope_days,
        case
            when count(*) >= min(thresholds.battery_slope_min_days)
                -- least squares: cov(x, y) / var(x), in sums that both engines evaluate alike
                then (
                    count(*) * sum(slope_window.day_number * slope_window.voltage_comp_mv_median)
                    - sum(slope_window.day_number) * sum(slope_window.voltage_comp_mv_median)
                ) / (
                    count(*) * sum(slope_window.day_number * slope_window.day_number)
                    - sum(slope_window.day_number) * sum(slope_window.day_number)
                )
        end as drain_mv_per_day
    from slope_window
    cross join thresholds
    group by slope_window.fob_key

),

latest_day as (

    select
        fob_key,
        vehicle_key,
        cell_lot,
        last_reading_date
    from ranked_days
    where recency_rank = 1

),

measured as (

    select
        latest_day.fob_key,
        latest_day.vehicle_key,
        latest_day.cell_lot,
        latest_day.last_reading_date,
        latest_voltage.latest_voltage_comp_mv,
        drain.slope_days,
        drain.drain_mv_per_day,
        case
            when drain.drain_mv_per_day < 0
                then
                    (latest_voltage.latest_voltage_comp_mv - thresholds.battery_low_mv)
                    / (-drain.drain_mv_per_day)
        end as days_to_low
    from latest_day
    cross join thresholds
    inner join latest_voltage
        on latest_day.fob_key = latest_voltage.fob_key
    inner join drain
        on latest_day.fob_key = drain.fob_key

),

final as (

    select -- noqa: ST06
        measured.fob_key,
        measured.vehicle_key,
        measured.cell_lot,
        {{ access_analytics.vehicle_attributes(attributes=['model', 'region']) }}
        measured.last_reading_date,
        measured.latest_voltage_comp_mv,
        measured.drain_mv_per_day,
        measured.days_to_low,
        measured.slope_days,
        case
            when measured.latest_voltage_comp_mv < thresholds.battery_low_mv then 'replace_now'
            when
                measured.days_to_low <= thresholds.battery_replace_soon_days
                or measured.latest_voltage_comp_mv < thresholds.battery_replace_soon_mv
                then 'replace_soon'
            when measured.latest_voltage_comp_mv < thresholds.battery_watch_mv then 'watch'
            else 'healthy'
        end as health_band
    from measured
    cross join thresholds
    left join vehicles
        on measured.vehicle_key = vehicles.vehicle_key

)

select * from final
