{#- Passive-entry unlock metrics of the whole fleet per UTC day of the attempt start. -#}

with

attempts as (

    select * from {{ ref('fct_unlock_attempts') }}

),

thresholds as (

    select * from {{ ref('metric_thresholds') }}

),

daily as (

    select
        attempt_date as metric_date,
        count(*) as attempts,
        count(case when outcome = 'unlocked' then 1 end) as unlocked,
        count(case when handle_wait then 1 end) as handle_waits,
        {{ access_analytics.percentile_cont('latency_ms', 0.5) }} as latency_p50_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.9) }} as latency_p90_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.95) }} as latency_p95_ms,
        {{ access_analytics.percentile_cont('latency_ms', 0.99) }} as latency_p99_ms
    from attempts
    group by attempt_date

),

final as (

    select
        daily.metric_date,
        daily.attempts,
        daily.unlocked,
        daily.handle_waits,
        {{ access_analytics.safe_ratio('daily.unlocked', 'daily.attempts') }} as unlock_success_rate,
        {{ access_analytics.wilson_low('daily.unlocked', 'daily.attempts', 'thresholds.wilson_z') }}
            as success_rate_ci_low,
        {{ access_analytics.wilson_high('daily.unlocked', 'daily.attempts', 'thresholds.wilson_z') }}
            as success_rate_ci_high,
        cast(daily.latency_p50_ms as double) as latency_p50_ms,
        cast(daily.latency_p90_ms as double) as latency_p90_ms,
        cast(daily.latency_p95_ms as double) as latency_p95_ms,
        cast(daily.latency_p99_ms as double) as latency_p99_ms,
        {{ access_analytics.safe_ratio('daily.handle_waits', 'daily.attempts') }} as handle_wait_rate
    from daily
    cross join thresholds

)

select * from final
