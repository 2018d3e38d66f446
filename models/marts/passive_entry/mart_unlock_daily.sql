{#-
    Passive-entry unlock metrics of the whole fleet per UTC day: the row of
    the daily cube that rolls every slice dimension up. The metrics are
    computed once, in mart_unlock_daily_by_slice.
-#}

select
    metric_date,
    attempts,
    unlocked,
    handle_waits,
    slow_unlocks,
    unlock_success_rate,
    success_rate_ci_low,
    success_rate_ci_high,
    latency_p50_ms,
    latency_p90_ms,
    latency_p95_ms,
    latency_p99_ms,
    handle_wait_rate,
    slow_unlock_rate,
    is_complete_day
from {{ access_analytics.fleet_rows(ref('mart_unlock_daily_by_slice'), access_analytics.session_slice_dimensions()) }}
