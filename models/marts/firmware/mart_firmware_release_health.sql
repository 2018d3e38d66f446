{#-
    Each firmware version against its predecessor over the same days
    (docs/metrics.md#firmware-release-health): the counts of
    int_firmware_release_comparisons, the tests of its two rates
    (int_firmware_release_rate_tests) side by side, and the p95 latency,
    which regresses when a comparison has enough attempts and it is worse by
    at least firmware_max_p95_increase.
-#}

with

comparisons as (select * from {{ ref('int_firmware_release_comparisons') }}),

rate_tests as (select * from {{ ref('int_firmware_release_rate_tests') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

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
