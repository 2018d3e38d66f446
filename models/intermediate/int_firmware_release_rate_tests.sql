{#-
    The two rates of each firmware comparison (int_firmware_release_comparisons),
    unlock success and walk-away reliability, tested alike: one row per version
    and rate with the pooled two-proportion z-test's two-sided p-value
    (docs/metrics.md#firmware-release-health). A rate regresses when both
    versions have firmware_min_sample trials and the new one is worse by at
    least firmware_min_rate_drop with p < firmware_max_p_value.
-#}

with

comparisons as (select * from {{ ref('int_firmware_release_comparisons') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

rates as (

    -- the second select takes its column names from the first
    select
        firmware_version,
        'success' as rate_name,
        unlocked_new as successes_new,
        attempts_new as trials_new,
        unlocked_prev as successes_prev,
        attempts_prev as trials_prev
    from comparisons
    union all
    select
        firmware_version,
        'reliability' as rate_name,
        locked_new,
        eligible_new,
        locked_prev,
        eligible_prev
    from comparisons

),

z_scored as (

    select
        *,
        {{ access_analytics.safe_ratio('successes_new', 'trials_new') }} as rate_new,
        {{ access_analytics.safe_ratio('successes_prev', 'trials_prev') }} as rate_prev,
        {{ access_analytics.two_proportion_z('successes_new', 'trials_new', 'successes_prev', 'trials_prev') }}
            as z
    from rates

),

tested as (

    select
        z_scored.*,
        {{ access_analytics.normal_two_sided_p('z_scored.z') }} as p_value,
        z_scored.trials_new >= thresholds.firmware_min_sample
        and z_scored.trials_prev >= thresholds.firmware_min_sample as has_sample
    from z_scored
    cross join thresholds

),

final as (

    select
        tested.firmware_version,
        tested.rate_name,
        tested.successes_new,
        tested.trials_new,
        tested.successes_prev,
        tested.trials_prev,
        tested.rate_new,
        tested.rate_prev,
        tested.z,
        tested.p_value,
        tested.has_sample,
        coalesce(
            tested.has_sample
            and tested.p_value < thresholds.firmware_max_p_value
            and tested.rate_prev - tested.rate_new >= thresholds.firmware_min_rate_drop,
            false
        ) as is_regression
    from tested
    cross join thresholds

)

select * from final
