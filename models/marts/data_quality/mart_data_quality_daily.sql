{#-
    Data quality per raw telemetry table and ingest day (METRICS.md section 5).
    Every row read lands in exactly one of kept, duplicates dropped or
    quarantined, so rows_read = rows_kept + duplicates_dropped +
    rows_quarantined holds by construction (the staging conservation test
    checks the three against a raw count). Lateness and freshness are over
    kept rows.
-#}

with

events as (select * from {{ ref('stg_raw__access_events') }}),

event_duplicates as (select * from {{ ref('stg_raw__access_events_duplicates') }}),

event_quarantine as (select * from {{ ref('stg_raw__access_events_quarantine') }}),

readings as (select * from {{ ref('stg_raw__fob_battery_readings') }}),

reading_duplicates as (select * from {{ ref('stg_raw__fob_battery_readings_duplicates') }}),

reading_quarantine as (select * from {{ ref('stg_raw__fob_battery_readings_quarantine') }}),

releases as (select * from {{ ref('stg_raw__firmware_releases') }}),

kept_rows as (

    select
        'access_events' as table_name,
        events.ingest_date,
        events.received_at,
        {{ access_analytics.seconds_between('events.event_at', 'events.received_at') }}
            as seconds_late,
        releases.version is null as has_unknown_firmware
    from events
    left join releases
        on events.firmware_version = releases.version
    union all
    select
        'fob_battery_readings' as table_name,
        readings.ingest_date,
        readings.received_at,
        {{ access_analytics.seconds_between('readings.read_at', 'readings.received_at') }}
            as seconds_late,
        releases.version is null as has_unknown_firmware
    from readings
    left join releases
        on readings.firmware_version = releases.version

),

kept_daily as (

    select
        table_name,
        ingest_date,
        count(*) as rows_kept,
        count(case when seconds_late > 3600 then 1 end) as rows_late_1h,
        count(case when seconds_late > 86400 then 1 end) as rows_late_24h,
        max(received_at) as max_received_at,
        count(case when has_unknown_firmware then 1 end) as unknown_firmware_rows
    from kept_rows
    group by table_name, ingest_date

),

duplicates_daily as (

    select
        'access_events' as table_name,
        ingest_date,
        count(*) as duplicates_dropped
    from event_duplicates
    group by ingest_date
    union all
    select
        'fob_battery_readings' as table_name,
        ingest_date,
        count(*) as duplicates_dropped
    from reading_duplicates
    group by ingest_date

),

quarantine_daily as (

    select
        'access_events' as table_name,
        ingest_date,
        count(*) as rows_quarantined
    from event_quarantine
    group by ingest_date
    union all
    select
        'fob_battery_readings' as table_name,
        ingest_date,
        count(*) as rows_quarantined
    from reading_quarantine
    group by ingest_date

),

table_days as (

    select
        table_name,
        ingest_date
    from kept_daily
    union
    select
        table_name,
        ingest_date
    from duplicates_daily
    union
    select
        table_name,
        ingest_date
    from quarantine_daily

),

final as (

    select
        table_days.table_name,
        table_days.ingest_date,
        coalesce(kept_daily.rows_kept, 0)
        + coalesce(duplicates_daily.duplicates_dropped, 0)
        + coalesce(quarantine_daily.rows_quarantined, 0) as rows_read,
        coalesce(kept_daily.rows_kept, 0) as rows_kept,
        coalesce(duplicates_daily.duplicates_dropped, 0) as duplicates_dropped,
        coalesce(quarantine_daily.rows_quarantined, 0) as rows_quarantined,
        {{ access_analytics.safe_ratio('kept_daily.rows_late_1h', 'kept_daily.rows_kept') }}
            as late_1h_share,
        {{ access_analytics.safe_ratio('kept_daily.rows_late_24h', 'kept_daily.rows_kept') }}
            as late_24h_share,
        kept_daily.max_received_at,
        coalesce(kept_daily.unknown_firmware_rows, 0) as unknown_firmware_rows
    from table_days
    left join kept_daily
        on
            table_days.table_name = kept_daily.table_name
            and table_days.ingest_date = kept_daily.ingest_date
    left join duplicates_daily
        on
            table_days.table_name = duplicates_daily.table_name
            and table_days.ingest_date = duplicates_daily.ingest_date
    left join quarantine_daily
        on
            table_days.table_name = quarantine_daily.table_name
            and table_days.ingest_date = quarantine_daily.ingest_date

)

select * from final
