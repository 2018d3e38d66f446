{#-
    Each firmware release's rollout followed day by day with always-valid
    p-values (a mixture sequential probability ratio test, mSPRT), which stay
    valid however often they are looked at (docs/metrics.md#rollout-monitor).
    Per guardrail and day, on the cumulative counts of
    int_firmware_rollout_guardrail_days: the log of the mixture likelihood
    ratio (log space: exp overflows on large effects), its running maximum and
    p = min(1, 1 / max L), which never rises. A guardrail flags when testable,
    p <= firmware_seq_alpha and the rate is worse by firmware_min_rate_drop.
-#}

{#- The guardrails of int_firmware_rollout_guardrail_days, in the column order of the mart. -#}
{%- set guardrails = [
    'unlock_failure',
    'slow_unlock',
    'walkaway_failure',
] %}

with

guardrail_days as (select * from {{ ref('int_firmware_rollout_guardrail_days') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

evidence as (

    select
        guardrail_days.*,
        thresholds.firmware_seq_alpha,
        thresholds.firmware_min_rate_drop,
        guardrail_days.rate_new - guardrail_days.rate_prev as rate_diff,
        guardrail_days.rate_new * (1 - guardrail_days.rate_new) / guardrail_days.n_new
        + guardrail_days.rate_prev * (1 - guardrail_days.rate_prev) / guardrail_days.n_prev as variance,
        guardrail_days.n_new >= thresholds.firmware_min_sample
        and guardrail_days.n_prev >= thresholds.firmware_min_sample as is_testable,
        power(thresholds.firmware_seq_tau, 2) as tau_squared
    from guardrail_days
    cross join thresholds

),

likelihood as (

    select
        *,
        -- log L = log sqrt(v / (v + tau^2)) + tau^2 diff^2 / (2 v (v + tau^2)); L = 1 when not testable
        case
            when is_testable and variance > 0
                then
                    0.5 * ln(variance / (variance + tau_squared))
                    + tau_squared * power(rate_diff, 2) / (2 * variance * (variance + tau_squared))
            else 0
        end as log_likelihood_ratio
    from evidence

),

p_values as (

    select
        *,
        exp(-greatest(0, max(log_likelihood_ratio) over (
            partition by firmware_version, guardrail
            order by metric_date
            rows between unbounded preceding and current row
        ))) as p_value
    from likelihood

),

flags as (

    select
        *,
        is_testable and p_value <= firmware_seq_alpha and rate_diff >= firmware_min_rate_drop as is_flagged
    from p_values

),

days as (

    select
        firmware_version,
        predecessor_version,
        window_start,
        window_end,
        metric_date,
        max(firmware_seq_alpha) as p_value_threshold,
        {%- for guardrail in guardrails %}
        max(case when guardrail = '{{ guardrail }}' then n_new end) as {{ guardrail }}_n_new,
        max(case when guardrail = '{{ guardrail }}' then n_prev end) as {{ guardrail }}_n_prev,
        max(case when guardrail = '{{ guardrail }}' then rate_new end) as {{ guardrail }}_rate_new,
        max(case when guardrail = '{{ guardrail }}' then rate_prev end) as {{ guardrail }}_rate_prev,
        max(case when guardrail = '{{ guardrail }}' then p_value end) as {{ guardrail }}_p_value,
        {%- endfor %}
        count(case when is_testable then 1 end) as testable_guardrails,
        -- the names in sorted order; concat_ws skips the guardrails that did not flag
        nullif(concat_ws(
            ','
            {%- for guardrail in guardrails | sort %},
            max(case when guardrail = '{{ guardrail }}' and is_flagged then '{{ guardrail }}' end)
            {%- endfor %}
        ), '') as guardrails_flagged_today
    from flags
    group by 1, 2, 3, 4, 5

),

first_flag_days as (

    select
        firmware_version,
        min(metric_date) as first_flagged_date
    from days
    where guardrails_flagged_today is not null
    group by 1

),

first_flags as (

    -- the first day any guardrail flagged, and which ones flagged that day
    select
        first_flag_days.firmware_version,
        first_flag_days.first_flagged_date,
        days.guardrails_flagged_today as first_flagged_guardrails
    from first_flag_days
    inner join days
        on
            first_flag_days.firmware_version = days.firmware_version
            and first_flag_days.first_flagged_date = days.metric_date

),

final as (

    select
        days.firmware_version,
        days.predecessor_version,
        days.window_start,
        days.window_end,
        days.metric_date,
        cast({{ access_analytics.days_between('days.window_start', 'days.metric_date') }} as integer) as day_index,
        days.metric_date = days.window_end as window_complete,
        {%- for guardrail in guardrails %}
        days.{{ guardrail }}_n_new,
        days.{{ guardrail }}_n_prev,
        days.{{ guardrail }}_rate_new,
        days.{{ guardrail }}_rate_prev,
        days.{{ guardrail }}_p_value,
        {%- endfor %}
        case
            when days.metric_date >= first_flags.first_flagged_date then 'regression'
            when days.metric_date = days.window_end and days.testable_guardrails = {{ guardrails | length }} then 'ok'
            when days.metric_date = days.window_end then 'insufficient_data'
            when days.testable_guardrails > 0 then 'monitoring'
            else 'insufficient_data'
        end as status,
        case when days.metric_date >= first_flags.first_flagged_date then first_flags.first_flagged_date end
            as first_flagged_date,
        case when days.metric_date >= first_flags.first_flagged_date then first_flags.first_flagged_guardrails end
            as flagged_guardrails,
        case
            when days.metric_date >= first_flags.first_flagged_date
                then cast(
                    {{ access_analytics.days_between('days.window_start', 'first_flags.first_flagged_date') }}
                    as integer
                )
        end as days_to_detection,
        days.p_value_threshold
    from days
    left join first_flags
        on days.firmware_version = first_flags.firmware_version

)

select * from final
