{{ config(materialized='table') }}

{#-
    A table, not a view: the rollout monitor reads it several times in one
    query, and Trino inlines views past its limit of query stages.

    Each firmware version against its predecessor over the same days: the
    firmware_window_days days starting on the first day the new version
    appears in kept events (docs/metrics.md#firmware-release-health).
    Attempts and episodes belong to the version of their starting event. Each
    side is counted here; int_firmware_release_rate_tests tests the rates and
    mart_firmware_release_health flags the comparison.
-#}

with

releases as (select * from {{ ref('int_firmware_releases_ordered') }}),

first_seen as (select * from {{ ref('int_firmware_versions_first_seen') }}),

attempts as (select * from {{ ref('int_unlock_attempts_sessionized') }}),

episodes as (select * from {{ ref('int_walkaway_episodes_sessionized') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

comparisons as (

    -- the versions that appear in the data and have a predecessor
    select
        releases.firmware_version,
        releases.predecessor_version,
        first_seen.first_seen_on as window_start,
        {{ access_analytics.add_days('first_seen.first_seen_on', 'thresholds.firmware_window_days - 1') }}
            as window_end
    from releases
    inner join first_seen
        on releases.firmware_version = first_seen.firmware_version
    cross join thresholds
    where releases.predecessor_version is not null

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

final as (

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

)

select * from final
