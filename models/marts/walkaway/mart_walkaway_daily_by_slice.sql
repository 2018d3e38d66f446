{{ config(materialized='incremental', unique_key='metric_date') }}

{#-
    Walk-away lock metrics per day for every existing combination of model,
    region, access_hw, key_type, radio and firmware_version and every roll-up
    of them (a cube, 'All' on rolled-up dimensions). Rates and percentiles are
    computed over the rows of each slice. Missing values read 'unknown'.
    is_complete_day flags the days whose data is complete (int_complete_days).
    Incremental by whole days (macros/metrics/incremental_cubes.sql).
-#}

{%- set dimensions = access_analytics.session_slice_dimensions() %}
{#- The time-to-lock percentiles share one state per slice (see percentile_cont). -#}
{%- set percentiles = [0.5, 0.95] %}
{%- set measures = [
    'episodes', 'eligible_episodes', 'locked', 'locked_late', 'manual_lock', 'suppressed',
    'not_locked', 'suppressed_key_inside', 'suppressed_door_ajar', 'suppressed_home_exclusion',
    'suppressed_feature_disabled', 'time_to_lock_p50_ms', 'time_to_lock_p95_ms',
    'source_ingest_date',
] %}
{%- set measure_expressions -%}
        count(*) as episodes,
        count(case when outcome <> 'suppressed' then 1 end) as eligible_episodes,
        count(case when outcome = 'locked' then 1 end) as locked,
        count(case when outcome = 'locked_late' then 1 end) as locked_late,
        count(case when outcome = 'manual_lock' then 1 end) as manual_lock,
        count(case when outcome = 'suppressed' then 1 end) as suppressed,
        count(case when outcome = 'not_locked' then 1 end) as not_locked,
        count(case when suppression_reason = 'key_inside' then 1 end) as suppressed_key_inside,
        count(case when suppression_reason = 'door_ajar' then 1 end) as suppressed_door_ajar,
        count(case when suppression_reason = 'home_exclusion' then 1 end)
            as suppressed_home_exclusion,
        count(case when suppression_reason = 'feature_disabled' then 1 end)
            as suppressed_feature_disabled,
        {{ access_analytics.percentile_cont('time_to_lock_ms', 0.5, among=percentiles) }} as time_to_lock_p50_ms,
        {{ access_analytics.percentile_cont('time_to_lock_ms', 0.95, among=percentiles) }} as time_to_lock_p95_ms,
        max(source_ingest_date) as source_ingest_date
{%- endset %}
{{- access_analytics.assert_cube_has_watermark() }}

with

episodes as (select * from {{ ref('fct_walkaway_episodes') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

complete_days as (select * from {{ ref('int_complete_days') }}),

members as (

    select
        episode_date as metric_date,
        {{ access_analytics.slice_members(dimensions) }}
        outcome,
        suppression_reason,
        -- 4 bytes per value in every grouping's percentile state (see percentile_cont)
        cast(time_to_lock_ms as integer) as time_to_lock_ms,
        source_ingest_date
    from episodes

),

{{ access_analytics.daily_cube(dimensions, measures, measure_expressions, 'access_events') }},

sliced_days as (

    {{ access_analytics.with_complete_day('sliced', 'access_events') }}

),

final as (

    select
        sliced_days.metric_date,
        {{ access_analytics.dimension_columns(dimensions, 'sliced_days') }}
        sliced_days.episodes,
        sliced_days.eligible_episodes,
        sliced_days.locked,
        sliced_days.locked_late,
        sliced_days.manual_lock,
        sliced_days.suppressed,
        sliced_days.not_locked,
        sliced_days.suppressed_key_inside,
        sliced_days.suppressed_door_ajar,
        sliced_days.suppressed_home_exclusion,
        sliced_days.suppressed_feature_disabled,
        {{ access_analytics.safe_ratio('sliced_days.locked', 'sliced_days.eligible_episodes') }}
            as walkaway_reliability,
        {{ access_analytics.wilson_low('sliced_days.locked', 'sliced_days.eligible_episodes', 'thresholds.wilson_z') }}
            as reliability_ci_low,
        {{ access_analytics.wilson_high('sliced_days.locked', 'sliced_days.eligible_episodes', 'thresholds.wilson_z') }}
            as reliability_ci_high,
        case
            when sliced_days.eligible_episodes > 0
                then cast(sliced_days.not_locked as double) * 10000 / sliced_days.eligible_episodes
        end as left_unlocked_per_10k,
        cast(sliced_days.time_to_lock_p50_ms as double) as time_to_lock_p50_ms,
        cast(sliced_days.time_to_lock_p95_ms as double) as time_to_lock_p95_ms,
        sliced_days.is_complete_day,
        sliced_days.source_ingest_date
    from sliced_days
    cross join thresholds

)

select * from final
