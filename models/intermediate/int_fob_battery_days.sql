{{ config(materialized='incremental', unique_key='fob_day_id') }}

{#-
    One row per fob and UTC reading day (docs/metrics.md#key-fob-battery-health) with the
    temperature-compensated voltage
    voltage_comp_mv = voltage_mv + coeff x (reference - temperature_c),
    uncompensated when the temperature is unknown. Incremental: a reading
    ingested since the watermark (minus the lookback) rebuilds its whole
    fob-day from every kept reading of that day, however late it arrived.
-#}

with

readings as (select * from {{ ref('stg_raw__fob_battery_readings') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

{% if is_incremental() %}
rebuilt_fob_days as (

    select distinct
        fob_id,
        cast(read_at as date) as reading_date
    from readings
    where ingest_date >= {{ access_analytics.session_ingest_cutoff() }}

),
{% endif %}

compensated as (

    select
        readings.fob_id,
        readings.vin,
        cast(readings.read_at as date) as reading_date,
        readings.voltage_mv,
        readings.temperature_c,
        readings.ingest_date,
        case
            when readings.temperature_c is null then cast(readings.voltage_mv as double)
            -- in double precision: the real (float32) temperature is widened exactly
            else
                cast(readings.voltage_mv as double)
                + thresholds.battery_temp_coeff_mv_per_c
                * (thresholds.battery_reference_temp_c - cast(readings.temperature_c as double))
        end as voltage_comp_mv
    from readings
    cross join thresholds
    {% if is_incremental() %}
    inner join rebuilt_fob_days
        on readings.fob_id = rebuilt_fob_days.fob_id
        and cast(readings.read_at as date) = rebuilt_fob_days.reading_date
    {% endif %}

),

final as (

    select
        fob_id || '|' || cast(reading_date as varchar) as fob_day_id,
        fob_id,
        reading_date,
        count(*) as readings,
        cast({{ access_analytics.median('voltage_comp_mv') }} as double) as voltage_comp_mv_median,
        min(voltage_mv) as voltage_mv_min,
        min(vin) as reported_vin,
        max(ingest_date) as source_ingest_date
    from compensated
    group by fob_id, reading_date

)

select * from final
