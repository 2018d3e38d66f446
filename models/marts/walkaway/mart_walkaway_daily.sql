{#-
    Walk-away lock metrics of the whole fleet per UTC day: the row of the
    daily cube that rolls every slice dimension up (the metrics are computed
    once, in mart_walkaway_daily_by_slice), with the share of episodes
    suppressed for each reason.
-#}

select
    metric_date,
    episodes,
    eligible_episodes,
    locked,
    locked_late,
    manual_lock,
    suppressed,
    not_locked,
    suppressed_key_inside,
    suppressed_door_ajar,
    suppressed_home_exclusion,
    suppressed_feature_disabled,
    walkaway_reliability,
    reliability_ci_low,
    reliability_ci_high,
    left_unlocked_per_10k,
    {{ access_analytics.safe_ratio('suppressed_key_inside', 'episodes') }}
        as suppressed_key_inside_share,
    {{ access_analytics.safe_ratio('suppressed_door_ajar', 'episodes') }}
        as suppressed_door_ajar_share,
    {{ access_analytics.safe_ratio('suppressed_home_exclusion', 'episodes') }}
        as suppressed_home_exclusion_share,
    {{ access_analytics.safe_ratio('suppressed_feature_disabled', 'episodes') }}
        as suppressed_feature_disabled_share,
    time_to_lock_p50_ms,
    time_to_lock_p95_ms,
    is_complete_day
from {{ access_analytics.fleet_rows(ref('mart_walkaway_daily_by_slice'), access_analytics.session_slice_dimensions()) }}
