{{ config(materialized='table') }}

{#-
    The rollout monitor's counts: for each comparison of firmware release
    health (same version, predecessor and window), each day of its window up
    to the newest event day, and each guardrail, the attempts or eligible
    episodes (n) and the bad ones, cumulative from window_start, on each side.
    Attempts and episodes belong to the version of their starting event.
    mart_firmware_rollout_monitor tests them day by day. A table, so the
    mart's query does not inline this one (Trino limits query stages).
-#}

{#- Each guardrail: its name, the daily counts it reads, its sample and its bad ones. -#}
{%- set guardrails = [
    ('unlock_failure', 'daily_attempts', 'attempts', 'timed_out'),
    ('slow_unlock', 'daily_attempts', 'attempts', 'slow_unlocks'),
    ('walkaway_failure', 'daily_episodes', 'eligible', 'not_locked'),
] %}

{%- set from_window_start -%}
over (
    partition by comparison_days.firmware_version, guardrails.guardrail
    order by comparison_days.metric_date
    rows between unbounded preceding and current row
)
{%- endset %}

with

comparisons as (select * from {{ ref('int_firmware_release_comparisons') }}),

attempts as (select * from {{ ref('int_unlock_attempts_sessionized') }}),

episodes as (select * from {{ ref('int_walkaway_episodes_sessionized') }}),

event_times as (select event_at from {{ ref('stg_raw__access_events') }}),

thresholds as (select * from {{ ref('metric_thresholds') }}),

calendar as (

    {{ access_analytics.date_spine(
        '(select min(window_start) from comparisons)',
        '(select max(cast(event_at as date)) from event_times)',
    ) }}

),

comparison_days as (

    -- the calendar stops at the newest event day, so a window still filling stops there too
    select
        comparisons.firmware_version,
        comparisons.predecessor_version,
        comparisons.window_start,
        comparisons.window_end,
        calendar.day as metric_date
    from comparisons
    inner join calendar
        on calendar.day between comparisons.window_start and comparisons.window_end

),

daily_attempts as (

    select
        comparisons.firmware_version,
        attempts.attempt_date as metric_date,
        attempts.firmware_version = comparisons.firmware_version as is_new,
        count(*) as attempts,
        count(case when attempts.outcome = 'timed_out' then 1 end) as timed_out,
        count(
            case
                when attempts.outcome != 'unlocked' or attempts.latency_ms > thresholds.firmware_slow_unlock_ms
                    then 1
            end
        ) as slow_unlocks
    from comparisons
    inner join attempts
        on
            attempts.attempt_date between comparisons.window_start and comparisons.window_end
            and attempts.firmware_version in (comparisons.firmware_version, comparisons.predecessor_version)
    cross join thresholds
    group by 1, 2, 3

),

daily_episodes as (

    select
        comparisons.firmware_version,
        episodes.episode_date as metric_date,
        episodes.firmware_version = comparisons.firmware_version as is_new,
        count(case when episodes.outcome != 'suppressed' then 1 end) as eligible,
        count(case when episodes.outcome not in ('suppressed', 'locked') then 1 end) as not_locked
    from comparisons
    inner join episodes
        on
            episodes.episode_date between comparisons.window_start and comparisons.window_end
            and episodes.firmware_version in (comparisons.firmware_version, comparisons.predecessor_version)
    group by 1, 2, 3

),

daily_guardrails as (

    {%- for guardrail, daily, sample, bad in guardrails %}
    select
        firmware_version,
        metric_date,
        is_new,
        '{{ guardrail }}' as guardrail,
        {{ sample }} as n,
        {{ bad }} as bad
    from {{ daily }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

guardrail_days as (

    -- each day of each window, for each guardrail, with the sums up to that day
    select
        comparison_days.firmware_version,
        comparison_days.predecessor_version,
        comparison_days.window_start,
        comparison_days.window_end,
        comparison_days.metric_date,
        guardrails.guardrail,
        cast(sum(coalesce(new_side.n, 0)) {{ from_window_start }} as bigint) as n_new,
        cast(sum(coalesce(new_side.bad, 0)) {{ from_window_start }} as bigint) as bad_new,
        cast(sum(coalesce(prev_side.n, 0)) {{ from_window_start }} as bigint) as n_prev,
        cast(sum(coalesce(prev_side.bad, 0)) {{ from_window_start }} as bigint) as bad_prev
    from comparison_days
    cross join (
        values
        {%- for guardrail in guardrails %}
        ('{{ guardrail[0] }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as guardrails (guardrail)
    left join daily_guardrails as new_side
        on
            comparison_days.firmware_version = new_side.firmware_version
            and comparison_days.metric_date = new_side.metric_date
            and guardrails.guardrail = new_side.guardrail
            and new_side.is_new
    left join daily_guardrails as prev_side
        on
            comparison_days.firmware_version = prev_side.firmware_version
            and comparison_days.metric_date = prev_side.metric_date
            and guardrails.guardrail = prev_side.guardrail
            and not prev_side.is_new

),

final as (

    select
        *,
        {{ access_analytics.safe_ratio('bad_new', 'n_new') }} as rate_new,
        {{ access_analytics.safe_ratio('bad_prev', 'n_prev') }} as rate_prev
    from guardrail_days

)

select * from final
