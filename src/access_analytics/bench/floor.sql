-- The floor: the three fleet daily marts (mart_unlock_daily,
-- mart_walkaway_daily, mart_fob_battery_daily) in ONE DuckDB statement straight
-- from the raw lake's Parquet files: no dbt, no intermediate tables. The rules are
-- those of the dbt chain (docs/raw-contract.md, docs/metrics.md); the registries only
-- label slices, so the fleet rows do not read them.
--
-- Filled in by access_analytics.bench.baselines.floor_sql (string.Template): the lake
-- root and every column of seeds/metric_thresholds.csv by name. The three marts come back
-- stacked (union all by name), with a column `mart` naming each row's mart.

with

-- Valid access events (no contract rule broken: docs/raw-contract.md, in any order,
-- since only "valid or not" matters here), one per event_id: the earliest
-- received_at, then the file path, then the row in the file. Every file sits under
-- the same table folder, so ordering by the full path orders by the lake-relative one.
events as materialized (
    select
        vin,
        event_id,
        event_at,
        event_type,
        lock_source,
        detail
    from read_parquet(
        '$lake/raw/access_events/*/*.parquet',
        hive_partitioning = true, filename = true, file_row_number = true
    )
    where not (
        event_id is null or event_id = ''
        or vin is null or vin = ''
        or event_at is null
        or received_at is null
        or event_type is null or event_type = ''
        or firmware_version is null or firmware_version = ''
        or event_type not in (
            'key_detected', 'unlock_zone_entered', 'auth_succeeded', 'auth_failed',
            'handle_pulled', 'door_unlocked', 'door_opened', 'door_closed',
            'lock_zone_exited', 'walkaway_suppressed', 'door_locked', 'nfc_tapped'
        )
        or (key_type is not null and key_type not in ('phone', 'fob', 'card'))
        or (radio is not null and radio not in ('ble', 'uwb', 'nfc', 'lf'))
        or (
            lock_source is not null
            and lock_source not in ('passive', 'card', 'app', 'fob_button', 'walkaway', 'drive_away')
        )
        or not regexp_full_match(event_id, '[0-9a-f]{32}')
        or not regexp_full_match(vin, '[A-HJ-NPR-Z0-9]{17}')
        or (rssi_dbm is not null and not (rssi_dbm >= -127 and rssi_dbm <= 20))
        or (distance_m is not null and not (distance_m >= 0 and distance_m <= 100))
        or event_at > received_at + to_seconds(300)
        or event_at < received_at - to_seconds(30 * 86400)
    )
    qualify row_number() over (
        partition by event_id order by received_at, filename, file_row_number
    ) = 1
),

-- Ingest days holding at least one raw row (kept or not): complete days are read from
-- them. Only the partition column is read.
event_ingest_days as materialized (
    select distinct cast(ingest_date as date) as day
    from read_parquet('$lake/raw/access_events/*/*.parquet', hive_partitioning = true)
),

reading_ingest_days as materialized (
    select distinct cast(ingest_date as date) as day
    from read_parquet('$lake/raw/fob_battery_readings/*/*.parquet', hive_partitioning = true)
),

-- docs/metrics.md#complete-days
complete_days as (
    select
        'access_events' as table_name,
        d.day,
        d.day > b.first_day + $complete_day_warmup_days
        and d.day + $complete_day_lateness_days < b.newest_day
        and (
            select count(*) from event_ingest_days as l
            where l.day between d.day and d.day + $complete_day_lateness_days
        ) = $complete_day_lateness_days + 1 as is_complete_day
    from event_ingest_days as d
    cross join (select min(day) as first_day, max(day) as newest_day from event_ingest_days) as b
    union all
    select
        'fob_battery_readings' as table_name,
        d.day,
        d.day > b.first_day + $complete_day_warmup_days
        and d.day + $complete_day_lateness_days < b.newest_day
        and (
            select count(*) from reading_ingest_days as l
            where l.day between d.day and d.day + $complete_day_lateness_days
        ) = $complete_day_lateness_days + 1 as is_complete_day
    from reading_ingest_days as d
    cross join (select min(day) as first_day, max(day) as newest_day from reading_ingest_days) as b
),

-- Unlock attempts: each event of the vehicle belongs to the latest unlock_zone_entered
-- at or before it (event order: event_at, event_id); the window is that segment, up to
-- unlock_timeout_s after the start, inclusive.
unlock_segments as (
    select
        event_id,
        event_at,
        event_type,
        row_number() over w as event_order,
        last_value(case when event_type = 'unlock_zone_entered' then event_id end ignore nulls)
            over w as attempt_id,
        last_value(case when event_type = 'unlock_zone_entered' then event_at end ignore nulls)
            over w as attempt_at
    from events
    where
        event_type in ('unlock_zone_entered', 'handle_pulled')
        or (event_type = 'door_unlocked' and lock_source = 'passive')
    window w as (
        partition by vin order by event_at, event_id
        rows between unbounded preceding and current row
    )
),

attempts as (
    select
        attempt_id,
        any_value(attempt_at) as attempt_at,
        min(event_order) filter (where event_type = 'door_unlocked') as unlock_order,
        -- event order starts with event_at, so the first unlock is also the earliest
        min(event_at) filter (where event_type = 'door_unlocked') as unlocked_at,
        min(event_order) filter (where event_type = 'handle_pulled') as handle_order
    from unlock_segments
    where attempt_id is not null and event_at <= attempt_at + to_seconds($unlock_timeout_s)
    group by attempt_id
),

unlock_daily as (
    select
        cast(attempt_at as date) as metric_date,
        count(*) as attempts,
        count(unlock_order) as unlocked,
        count(*) filter (
            where handle_order is not null and (unlock_order is null or handle_order < unlock_order)
        ) as handle_waits,
        count(*) filter (
            where unlock_order is null
            or (epoch_us(unlocked_at) - epoch_us(attempt_at)) // 1000 > $slow_unlock_ms
        ) as slow_unlocks,
        quantile_cont(
            (epoch_us(unlocked_at) - epoch_us(attempt_at)) // 1000, [0.5, 0.9, 0.95, 0.99]
        ) as latency
    from attempts
    group by all
),

-- Walk-away episodes: decided by the vehicle's next event of these four types, if at
-- most walkaway_window_s after the start.
walkaway_sequenced as (
    select
        event_at,
        event_type,
        lead(event_type) over w as next_type,
        lead(event_at) over w as next_at,
        lead(lock_source) over w as next_lock_source,
        lead(detail) over w as next_detail
    from events
    where event_type in ('lock_zone_exited', 'unlock_zone_entered', 'door_locked', 'walkaway_suppressed')
    window w as (partition by vin order by event_at, event_id)
),

episodes as (
    select
        cast(event_at as date) as metric_date,
        case
            when next_type = 'door_locked' and next_lock_source = 'walkaway'
                then (epoch_us(next_at) - epoch_us(event_at)) // 1000
        end as time_to_lock_ms,
        case
            when next_type = 'door_locked' and next_lock_source = 'walkaway'
                and (epoch_us(next_at) - epoch_us(event_at)) // 1000 <= $walkaway_lock_slo_ms
                then 'locked'
            when next_type = 'door_locked' and next_lock_source = 'walkaway' then 'locked_late'
            when next_type = 'door_locked' then 'manual_lock'
            when next_type = 'walkaway_suppressed' then 'suppressed'
            else 'not_locked'
        end as outcome,
        case when next_type = 'walkaway_suppressed' then next_detail end as suppression_reason
    from (
        select
            event_at,
            case when next_at <= event_at + to_seconds($walkaway_window_s) then next_type end as next_type,
            next_at,
            next_lock_source,
            next_detail
        from walkaway_sequenced
        where event_type = 'lock_zone_exited'
    )
),

walkaway_counts as (
    select
        metric_date,
        count(*) as episodes,
        count(*) filter (where outcome <> 'suppressed') as eligible_episodes,
        count(*) filter (where outcome = 'locked') as locked,
        count(*) filter (where outcome = 'locked_late') as locked_late,
        count(*) filter (where outcome = 'manual_lock') as manual_lock,
        count(*) filter (where outcome = 'suppressed') as suppressed,
        count(*) filter (where outcome = 'not_locked') as not_locked,
        count(*) filter (where suppression_reason = 'key_inside') as suppressed_key_inside,
        count(*) filter (where suppression_reason = 'door_ajar') as suppressed_door_ajar,
        count(*) filter (where suppression_reason = 'home_exclusion') as suppressed_home_exclusion,
        count(*) filter (where suppression_reason = 'feature_disabled') as suppressed_feature_disabled,
        quantile_cont(time_to_lock_ms, [0.5, 0.95]) as time_to_lock
    from episodes
    group by metric_date
),

-- Valid fob battery readings, one per reading_id, as for events.
readings as (
    select
        fob_id,
        read_at,
        voltage_mv,
        temperature_c
    from read_parquet(
        '$lake/raw/fob_battery_readings/*/*.parquet',
        hive_partitioning = true, filename = true, file_row_number = true
    )
    where not (
        reading_id is null or reading_id = ''
        or vin is null or vin = ''
        or fob_id is null or fob_id = ''
        or read_at is null
        or received_at is null
        or voltage_mv is null
        or firmware_version is null or firmware_version = ''
        or not regexp_full_match(reading_id, '[0-9a-f]{32}')
        or not regexp_full_match(vin, '[A-HJ-NPR-Z0-9]{17}')
        or not (voltage_mv >= 1800 and voltage_mv <= 3400)
        or (temperature_c is not null and not (temperature_c >= -40 and temperature_c <= 60))
        or read_at > received_at + to_seconds(300)
        or read_at < received_at - to_seconds(30 * 86400)
    )
    qualify row_number() over (
        partition by reading_id order by received_at, filename, file_row_number
    ) = 1
),

fob_days as (
    select
        cast(read_at as date) as metric_date,
        fob_id,
        quantile_cont(
            case
                when temperature_c is null then cast(voltage_mv as double)
                else cast(voltage_mv as double)
                    + $battery_temp_coeff_mv_per_c
                    * ($battery_reference_temp_c - cast(temperature_c as double))
            end,
            0.5
        ) as voltage_comp_mv
    from readings
    group by all
),

fob_daily as (
    select
        metric_date,
        count(*) as fobs_reporting,
        quantile_cont(voltage_comp_mv, 0.5) as voltage_comp_mv_median,
        count(*) filter (where voltage_comp_mv < $battery_replace_soon_mv) as fobs_below_2700
    from fob_days
    group by metric_date
)

select
    'mart_unlock_daily' as mart,
    u.metric_date,
    u.attempts,
    u.unlocked,
    u.handle_waits,
    u.slow_unlocks,
    u.unlocked / u.attempts as unlock_success_rate,
    case
        when u.unlocked = 0 then 0.0
        else greatest(0.0, (
            2e0 * u.unlocked + $wilson_z * $wilson_z
            - $wilson_z * sqrt($wilson_z * $wilson_z + 4e0 * u.unlocked * (u.attempts - u.unlocked) / u.attempts)
        ) / (2e0 * (u.attempts + $wilson_z * $wilson_z)))
    end as success_rate_ci_low,
    case
        when u.unlocked = u.attempts then 1.0
        else least(1.0, (
            2e0 * u.unlocked + $wilson_z * $wilson_z
            + $wilson_z * sqrt($wilson_z * $wilson_z + 4e0 * u.unlocked * (u.attempts - u.unlocked) / u.attempts)
        ) / (2e0 * (u.attempts + $wilson_z * $wilson_z)))
    end as success_rate_ci_high,
    cast(u.latency[1] as double) as latency_p50_ms,
    cast(u.latency[2] as double) as latency_p90_ms,
    cast(u.latency[3] as double) as latency_p95_ms,
    cast(u.latency[4] as double) as latency_p99_ms,
    u.handle_waits / u.attempts as handle_wait_rate,
    u.slow_unlocks / u.attempts as slow_unlock_rate,
    coalesce(c.is_complete_day, false) as is_complete_day
from unlock_daily as u
left join complete_days as c on c.table_name = 'access_events' and c.day = u.metric_date

union all by name

select
    'mart_walkaway_daily' as mart,
    w.metric_date,
    w.episodes,
    w.eligible_episodes,
    w.locked,
    w.locked_late,
    w.manual_lock,
    w.suppressed,
    w.not_locked,
    w.suppressed_key_inside,
    w.suppressed_door_ajar,
    w.suppressed_home_exclusion,
    w.suppressed_feature_disabled,
    case when w.eligible_episodes > 0 then w.locked / w.eligible_episodes end as walkaway_reliability,
    case
        when w.eligible_episodes = 0 then null
        when w.locked = 0 then 0.0
        else greatest(0.0, (
            2e0 * w.locked + $wilson_z * $wilson_z
            - $wilson_z * sqrt(
                $wilson_z * $wilson_z + 4e0 * w.locked * (w.eligible_episodes - w.locked) / w.eligible_episodes
            )
        ) / (2e0 * (w.eligible_episodes + $wilson_z * $wilson_z)))
    end as reliability_ci_low,
    case
        when w.eligible_episodes = 0 then null
        when w.locked = w.eligible_episodes then 1.0
        else least(1.0, (
            2e0 * w.locked + $wilson_z * $wilson_z
            + $wilson_z * sqrt(
                $wilson_z * $wilson_z + 4e0 * w.locked * (w.eligible_episodes - w.locked) / w.eligible_episodes
            )
        ) / (2e0 * (w.eligible_episodes + $wilson_z * $wilson_z)))
    end as reliability_ci_high,
    case when w.eligible_episodes > 0 then w.not_locked * 10000 / w.eligible_episodes end
        as left_unlocked_per_10k,
    w.suppressed_key_inside / w.episodes as suppressed_key_inside_share,
    w.suppressed_door_ajar / w.episodes as suppressed_door_ajar_share,
    w.suppressed_home_exclusion / w.episodes as suppressed_home_exclusion_share,
    w.suppressed_feature_disabled / w.episodes as suppressed_feature_disabled_share,
    cast(w.time_to_lock[1] as double) as time_to_lock_p50_ms,
    cast(w.time_to_lock[2] as double) as time_to_lock_p95_ms,
    coalesce(c.is_complete_day, false) as is_complete_day
from walkaway_counts as w
left join complete_days as c on c.table_name = 'access_events' and c.day = w.metric_date

union all by name

select
    'mart_fob_battery_daily' as mart,
    f.metric_date,
    f.fobs_reporting,
    cast(f.voltage_comp_mv_median as double) as voltage_comp_mv_median,
    f.fobs_below_2700,
    f.fobs_below_2700 / f.fobs_reporting as share_below_2700,
    coalesce(c.is_complete_day, false) as is_complete_day
from fob_daily as f
left join complete_days as c on c.table_name = 'fob_battery_readings' and c.day = f.metric_date
