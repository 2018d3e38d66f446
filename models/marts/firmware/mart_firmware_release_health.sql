{#-
    Each firmware version against its predecessor over the same days: the
    firmware_window_days days starting on the first day the new version
    appears in kept events (docs/metrics.md#firmware-release-health). Attempts and episodes
    belong to the version of their starting event. A comparison needs
    firmware_min_sample attempts (or eligible episodes) on both versions;
    a sufficient one is flagged when a rate is worse by at least
    firmware_min_rate_drop with p < firmware_max_p_value, or the p95 latency
    is worse by at least firmware_max_p95_increase.
-#}

with

releases as (select * from {{ ref('dim_firmware_releases') }}),

attempts as (select * from {{ ref('fct_unlock_attempts') }}),

episodes as (select * from {{ ref('fct_walkaway_episodes') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

comparisons as (

    select
        releases.firmware_version,
        releases.predecessor_version,
        releases.first_seen_on as window_start,
        {{ access_analytics.add_days('releases.first_seen_on', 'thresholds.firmware_window_days - 1') }}
            as window_end
    from releases
    cross join thresholds
    where
        releases.predecessor_version is not null
        and releases.first_seen_on is not null

),

attempt_stats as (

    select
        comparisons.firmware_version,
        attempts.firmware_version = comparisons.firmware_version as is_new,
        count(*) as attempts,
        count(case when attempts.outcome = 'unlocked' then 1 end) as unlocked,
        {{ access_analytics.percentile_cont('attempts.latency_ms', 0.95) }} as latency_p95_ms
    from comparisons
    inner join attempts
        on
            attempts.attempt_date between comparisons.window_start and comparisons.window_end
            and attempts.firmware_version in (
                comparisons.firmware_version, comparisons.predecessor_version
            )
    group by 1, 2

),

episode_stats as (

    select
        comparisons.firmware_version,
        episodes.firmware_version = comparisons.firmware_version as is_new,
        count(case when episodes.outcome <> 'suppressed' then 1 end) as eligible,
        count(case when episodes.outcome = 'locked' then 1 end) as locked
    from comparisons
    inner join episodes
        on
            episodes.episode_date between comparisons.window_start and comparisons.window_end
            and episodes.firmware_version in (
                comparisons.firmware_version, comparisons.predecessor_version
            )
    group by 1, 2

),

measured as (

    select -- noqa: ST06
        comparisons.firmware_version,
        comparisons.predecessor_version,
        comparisons.window_start,
        comparisons.window_end,
        coalesce(attempts_new.attempts, 0) as attempts_new,
        coalesce(attempts_prev.attempts, 0) as attempts_prev,
        coalesce(attempts_new.unlocked, 0) as unlocked_new,
        coalesce(attempts_prev.unlocked, 0) as unlocked_prev,
        cast(attempts_new.latency_p95_ms as double) as latency_p95_new_ms,
        cast(attempts_prev.latency_p95_ms as double) as latency_p95_prev_ms,
        coalesce(episodes_new.eligible, 0) as eligible_new,
        coalesce(episodes_prev.eligible, 0) as eligible_prev,
        coalesce(episodes_new.locked, 0) as locked_new,
        coalesce(episodes_prev.locked, 0) as locked_prev
    from comparisons
    left join attempt_stats as attempts_new
        on
            comparisons.firmware_version = attempts_new.firmware_version
            and attempts_new.is_new
    left join attempt_stats as attempts_prev
        on
            comparisons.firmware_version = attempts_prev.firmware_version
            and not attempts_prev.is_new
    left join episode_stats as episodes_new
        on
            comparisons.firmware_version = episodes_new.firmware_version
            and episodes_new.is_new
    left join episode_stats as episodes_prev
        on
            comparisons.firmware_version = episodes_prev.firmware_version
            and not episodes_prev.is_new

),

tested as (

    select
        *,
        {{ access_analytics.safe_ratio('unlocked_new', 'attempts_new') }} as success_rate_new,
        {{ access_analytics.safe_ratio('unlocked_prev', 'attempts_prev') }} as success_rate_prev,
        {{ access_analytics.two_proportion_z('unlocked_new', 'attempts_new', 'unlocked_prev', 'attempts_prev') }}
            as success_z,
        case
            when latency_p95_prev_ms > 0 then latency_p95_new_ms / latency_p95_prev_ms - 1
        end as latency_p95_change,
        {{ access_analytics.safe_ratio('locked_new', 'eligible_new') }} as reliability_new,
        {{ access_analytics.safe_ratio('locked_prev', 'eligible_prev') }} as reliability_prev,
        {{ access_analytics.two_proportion_z('locked_new', 'eligible_new', 'locked_prev', 'eligible_prev') }}
            as reliability_z
    from measured

),

flagged as (

    select
        tested.*,
        {{ access_analytics.normal_two_sided_p('success_z') }} as success_p_value,
        {{ access_analytics.normal_two_sided_p('reliability_z') }} as reliability_p_value,
        tested.attempts_new >= thresholds.firmware_min_sample
        and tested.attempts_prev >= thresholds.firmware_min_sample as has_attempt_sample,
        tested.eligible_new >= thresholds.firmware_min_sample
        and tested.eligible_prev >= thresholds.firmware_min_sample as has_episode_sample,
        thresholds.firmware_max_p_value,
        thresholds.firmware_min_rate_drop,
        thresholds.firmware_max_p95_increase
    from tested
    cross join thresholds

),

comparison_flags as (

    select -- noqa: ST06
        firmware_version,
        predecessor_version,
        window_start,
        window_end,
        attempts_new,
        attempts_prev,
        success_rate_new,
        success_rate_prev,
        success_p_value,
        latency_p95_new_ms,
        latency_p95_prev_ms,
        latency_p95_change,
        eligible_new,
        eligible_prev,
        reliability_new,
        reliability_prev,
        reliability_p_value,
        coalesce(
            has_attempt_sample
            and success_p_value < firmware_max_p_value
            and success_rate_prev - success_rate_new >= firmware_min_rate_drop,
            false
        ) as is_success_regression,
        coalesce(
            has_attempt_sample and latency_p95_change >= firmware_max_p95_increase,
            false
        ) as is_latency_regression,
        coalesce(
            has_episode_sample
            and reliability_p_value < firmware_max_p_value
            and reliability_prev - reliability_new >= firmware_min_rate_drop,
            false
        ) as is_reliability_regression,
        has_attempt_sample,
        has_episode_sample
    from flagged

),

final as (

    select
        *,
        case
            when is_success_regression or is_latency_regression or is_reliability_regression
                then 'regression'
            when not has_attempt_sample or not has_episode_sample then 'insufficient_data'
            else 'ok'
        end as status
    from comparison_flags

)

select * from final
