{{ config(materialized='incremental', unique_key='metric_date') }}

{#-
    Unlock metrics per day for every existing combination of model, region,
    access_hw, key_type, radio and firmware_version, and every roll-up of them
    (a cube): a dimension reads 'All' on the rows that roll it up. Each rate
    and percentile is computed over the rows of its slice, never averaged
    from smaller groups. Missing values read 'unknown'. is_complete_day
    flags the days whose data is complete (int_complete_days). Incremental
    by whole days (macros/metrics/incremental_cubes.sql).
-#}

{%- set dimensions = access_analytics.session_slice_dimensions() %}
{#- The latency percentiles share one state per slice (see percentile_cont). -#}
{%- set percentiles = [0.5, 0.9, 0.95, 0.99] %}
{%- set measures = [
    'attempts', 'unlocked', 'handle_waits', 'slow_unlocks', 'latency_p50_ms',
    'latency_p90_ms', 'latency_p95_ms', 'latency_p99_ms', 'source_ingest_date',
] %}
{%- set measure_expressions -%}
        count(*) as attempts,
        count(case when outcome = 'unlocked' then 1 end) as unlocked,
        count(case when handle_wait then 1 end) as handle_waits,
        count(case when is_slow_unlock then 1 end) as slow_unlocks,
        {{ access_analytics.percentile_cont('latency_ms', 0.5, among=percentiles) }} as latency_p50_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.9, among=percentiles) }} as latency_p90_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.95, among=percentiles) }} as latency_p95_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.99, among=percentiles) }} as latency_p99_ms,
        max(source_ingest_date) as source_ingest_date
{%- endset %}
{{- access_analytics.assert_cube_has_watermark() }}

with

attempts as (select * from {{ ref('fct_unlock_attempts') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

complete_days as (select * from {{ ref('int_complete_days') }}),

members as (

    select
        attempts.attempt_date as metric_date,
        {{ access_analytics.slice_members(dimensions, 'attempts') }}
        attempts.outcome,
        -- 4 bytes per value in every grouping's percentile state (see percentile_cont)
        cast(attempts.latency_ms as integer) as latency_ms,
        attempts.handle_wait,
        -- not unlocked within the threshold: timed out (no latency) or too slow
        attempts.outcome != 'unlocked' or attempts.latency_ms > thresholds.slow_unlock_ms as is_slow_unlock,
        attempts.source_ingest_date
    from attempts
    cross join thresholds

),

{{ access_analytics.daily_cube(dimensions, measures, measure_expressions, 'access_events') }},

sliced_days as (

    {{ access_analytics.with_complete_day('sliced', 'access_events') }}

),

final as (

    select
        sliced_days.metric_date,
        {{ access_analytics.dimension_columns(dimensions, 'sliced_days') }}
        sliced_days.attempts,
        sliced_days.unlocked,
        sliced_days.handle_waits,
        sliced_days.slow_unlocks,
        {{ access_analytics.safe_ratio('sliced_days.unlocked', 'sliced_days.attempts') }} as unlock_success_rate,
        {{ access_analytics.wilson_low('sliced_days.unlocked', 'sliced_days.attempts', 'thresholds.wilson_z') }}
            as success_rate_ci_low,
        {{ access_analytics.wilson_high('sliced_days.unlocked', 'sliced_days.attempts', 'thresholds.wilson_z') }}
            as success_rate_ci_high,
        cast(sliced_days.latency_p50_ms as double) as latency_p50_ms,
        cast(sliced_days.latency_p90_ms as double) as latency_p90_ms,
        cast(sliced_days.latency_p95_ms as double) as latency_p95_ms,
        cast(sliced_days.latency_p99_ms as double) as latency_p99_ms,
        {{ access_analytics.safe_ratio('sliced_days.handle_waits', 'sliced_days.attempts') }} as handle_wait_rate,
        {{ access_analytics.safe_ratio('sliced_days.slow_unlocks', 'sliced_days.attempts') }} as slow_unlock_rate,
        sliced_days.is_complete_day,
        sliced_days.source_ingest_date
    from sliced_days
    cross join thresholds

)

select * from final
