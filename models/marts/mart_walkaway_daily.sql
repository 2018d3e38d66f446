{#- Walk-away lock metrics of the whole fleet per UTC day of the episode start. -#}

with

episodes as (

    select * from {{ ref('fct_walkaway_episodes') }}

),

thresholds as (

    select * from {{ ref('metric_thresholds') }}

),

daily as (

    select
        episode_date as metric_date,
        count(*) as episodes,
        count(case when outcome <> 'suppressed' then 1 end) as eligible_episodes,
        count(case when outcome = 'locked' then 1 end) as locked, -- noqa: RF04
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
        {{ access_analytics.percentile_cont('time_to_lock_ms', 0.5) }} as time_to_lock_p50_ms,
        {{ access_analytics.percentile_cont('time_to_lock_ms', 0.95) }} as time_to_lock_p95_ms
    from episodes
    group by episode_date

),

final as (

    select
        daily.metric_date,
        daily.episodes,
        daily.eligible_episodes,
        daily.locked,
        daily.locked_late,
        daily.manual_lock,
        daily.suppressed,
        daily.not_locked,
        daily.suppressed_key_inside,
        daily.suppressed_door_ajar,
        daily.suppressed_home_exclusion,
        daily.suppressed_feature_disabled,
        {{ access_analytics.safe_ratio('daily.locked', 'daily.eligible_episodes') }}
            as walkaway_reliability,
        {{ access_analytics.wilson_low('daily.locked', 'daily.eligible_episodes', 'thresholds.wilson_z') }}
            as reliability_ci_low,
        {{ access_analytics.wilson_high('daily.locked', 'daily.eligible_episodes', 'thresholds.wilson_z') }}
            as reliability_ci_high,
        case
            when daily.eligible_episodes > 0
                then cast(daily.not_locked as double) * 10000 / daily.eligible_episodes
        end as left_unlocked_per_10k,
        {{ access_analytics.safe_ratio('daily.suppressed_key_inside', 'daily.episodes') }}
            as suppressed_key_inside_share,
        {{ access_analytics.safe_ratio('daily.suppressed_door_ajar', 'daily.episodes') }}
            as suppressed_door_ajar_share,
        {{ access_analytics.safe_ratio('daily.suppressed_home_exclusion', 'daily.episodes') }}
            as suppressed_home_exclusion_share,
        {{ access_analytics.safe_ratio('daily.suppressed_feature_disabled', 'daily.episodes') }}
            as suppressed_feature_disabled_share,
        cast(daily.time_to_lock_p50_ms as double) as time_to_lock_p50_ms,
        cast(daily.time_to_lock_p95_ms as double) as time_to_lock_p95_ms
    from daily
    cross join thresholds

)

select * from final
