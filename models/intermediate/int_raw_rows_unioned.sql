{#-
    Every raw telemetry row of both tables, as staging classified it, in one
    relation for the data-quality marts: its table, ingest day, status and
    quarantine reason, and the times and firmware that lateness and the
    registry check need (happened_at is event_at or read_at).
-#}

with

events as (

    {{ access_analytics.raw_rows_classified('access_events') }}

),

readings as (

    {{ access_analytics.raw_rows_classified('fob_battery_readings') }}

),

final as (

    select
        'access_events' as table_name,
        ingest_date,
        row_status,
        quarantine_reason,
        event_at as happened_at,
        received_at,
        firmware_version
    from events
    union all
    select
        'fob_battery_readings' as table_name,
        ingest_date,
        row_status,
        quarantine_reason,
        read_at as happened_at,
        received_at,
        firmware_version
    from readings

)

select * from final
