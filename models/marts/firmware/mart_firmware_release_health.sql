{#-
    Each firmware version against its predecessor over the same days
    (docs/metrics.md#firmware-release-health): the counts of
    int_firmware_release_comparisons, the tests of its two rates
    (int_firmware_release_rate_tests) side by side, and the p95 latency,
    which regresses when a comparison has enough attempts and it is worse by
    at least firmware_max_p95_increase. Each row also names the guardrails
    that flagged it (flagged_by) and whether its window is over: it is
    complete when window_end is on or before the newest complete day of
    access_events (int_complete_days), in progress while data of its last
    days may still arrive.
-#}

with

comparisons as (select * from {{ ref('int_firmware_release_comparisons') }}),

rate_tests as (select * from {{ ref('int_firmware_release_rate_tests') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

complete_days as (select * from {{ ref('int_complete_days') }}),

newest_complete_day as (

    select max(metric_date) as newest_complete_date
    from complete_days
    where table_name = 'access_events' and is_complete_day

),

latency as (

    select
        *,
        case
            when latency_p95_prev_ms > 0 then latency_p95_new_ms / latency_p95_prev_ms - 1
        end as latency_p95_change
    from comparisons

),

comparison_flags as (

    select -- noqa: ST06
        latency.firmware_version,
        latency.predecessor_version,
        latency.window_start,
        latency.window_end,
        latency.attempts_new,
        latency.attempts_prev,
        success.rate_new as success_rate_new,
        success.rate_prev as success_rate_prev,
        success.p_value as success_p_value,
        latency.latency_p95_new_ms,
        latency.latency_p95_prev_ms,
        latency.latency_p95_change,
        latency.eligible_new,
        latency.eligible_prev,
        reliability.rate_new as reliability_new,
        reliability.rate_prev as reliability_prev,
        reliability.p_value as reliability_p_value,
        success.is_regression as is_success_regression,
        coalesce(
            success.has_sample and latency.latency_p95_change >= thresholds.firmware_max_p95_increase,
            false
        ) as is_latency_regression,
        reliability.is_regression as is_reliability_regression,
        success.has_sample as has_attempt_sample,
        reliability.has_sample as has_episode_sample
    from latency
    cross join thresholds
    inner join rate_tests as success
        on
            latency.firmware_version = success.firmware_version
            and success.rate_name = 'success'
    inner join rate_tests as reliability
        on
            latency.firmware_version = reliability.firmware_version
            and reliability.rate_name = 'reliability'

),

statuses as (

    select
        *,
        case
            when is_success_regression or is_latency_regression or is_reliability_regression
                then 'regression'
            when not has_attempt_sample or not has_episode_sample then 'insufficient_data'
            else 'ok'
        end as status
    from comparison_flags

),

final as (

    select
        statuses.*,
        -- the flags that are set, in a fixed order; substr drops the leading ', '
        nullif(
            substr(
                case when statuses.is_success_regression then ', unlock success rate' else '' end
                || case when statuses.is_latency_regression then ', p95 unlock latency' else '' end
                || case when statuses.is_reliability_regression then ', walk-away reliability' else '' end,
                3
            ),
            ''
        ) as flagged_by,
        case
            when statuses.window_end <= newest_complete_day.newest_complete_date then 'complete'
            else 'in_progress'
        end as window_status
    from statuses
    cross join newest_complete_day

)

select * from final
